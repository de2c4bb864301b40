/** Longest provider-written text kept in a message (an OperationOutcome's diagnostics, an API error). */
export const MAX_PROVIDER_TEXT = 200;

/** A run of token characters long enough to be a credential. */
const LONG_TOKEN = /[A-Za-z0-9_~+=-]{32,}/g;
/**
 * A canonical UUID (8-4-4-4-12 hex) not run into more letters or digits. Split out of a long
 * run, with the UUID kept as its own piece.
 */
const UUID_PIECE = /((?<![A-Za-z0-9])[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?![A-Za-z0-9]))/;

/**
 * A long run of token characters redacted, except the canonical UUIDs in it: FHIR resource ids
 * and request ids are UUIDs, name what failed, and open nothing. What is left around them is
 * still redacted when it is long enough to be a credential.
 */
const redactLongRun = (run: string) =>
  run
    .split(UUID_PIECE)
    .map((piece, i) => (i % 2 === 1 || piece.length < 32 ? piece : '[redacted]'))
    .join('');

/**
 * Provider-written error text, made fit to show and store: each of `secrets` (the bearer token
 * the request carried) and anything shaped like a credential (a JWT, a Bearer or Basic value, a
 * long unbroken run of token characters other than a UUID) replaced by `[redacted]`, control
 * characters made spaces, and the result capped. Some gateways quote the failed request,
 * Authorization header included, in their error text. `secrets` go first, so a token that
 * happens to be shaped like a UUID is still redacted.
 */
export function scrubProviderText(text: string, secrets: readonly string[] = [], max = MAX_PROVIDER_TEXT): string {
  let t = text;
  for (const s of secrets) if (s) t = t.split(s).join('[redacted]');
  t = t
    .replace(/\beyJ[\w-]*\.[\w-]*\.?[\w-]*/g, '[redacted]')
    .replace(/\b(bearer|basic)\s+(?!\[redacted\])\S+/gi, '$1 [redacted]')
    .replace(LONG_TOKEN, redactLongRun)
    // Control characters (a header's CR LF among them) become spaces.
    .replace(/\p{Cc}+/gu, ' ')
    .trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}
