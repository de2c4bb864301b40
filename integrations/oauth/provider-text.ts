/** Longest provider-written text kept in a message (an OperationOutcome's diagnostics, an API error). */
export const MAX_PROVIDER_TEXT = 200;

/**
 * Provider-written error text, made fit to show and store: each of `secrets` (the bearer token
 * the request carried) and anything shaped like a credential (a JWT, a long unbroken run of
 * token characters) replaced by `[redacted]`, control characters made spaces, and the result capped.
 * Some gateways quote the failed request, Authorization header included, in their error text.
 */
export function scrubProviderText(text: string, secrets: readonly string[] = [], max = MAX_PROVIDER_TEXT): string {
  let t = text;
  for (const s of secrets) if (s) t = t.split(s).join('[redacted]');
  t = t
    .replace(/\beyJ[\w-]*\.[\w-]*\.?[\w-]*/g, '[redacted]')
    .replace(/\b(bearer|basic)\s+(?!\[redacted\])\S+/gi, '$1 [redacted]')
    .replace(/[A-Za-z0-9_~+=-]{32,}/g, '[redacted]')
    // Control characters (a header's CR LF among them) become spaces.
    .replace(/\p{Cc}+/gu, ' ')
    .trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}
