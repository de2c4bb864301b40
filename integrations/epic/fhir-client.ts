/**
 * A small FHIR R4 read client for SMART servers: bearer auth with one refresh on 401, Bundle
 * paging through `link[rel=next]`, 429 back-off honouring Retry-After, and errors a person can
 * act on. Epic quirks handled:
 * - `next` links are absolute URLs; only ones under the configured base are followed (a
 *   tampered Bundle must not steer the bearer token elsewhere).
 * - 403 with an OperationOutcome for a resource type outside the granted scopes: reported and
 *   skipped by the caller, not fatal.
 * - OperationOutcome entries (search.mode "outcome") ride along in searches, even empty ones.
 */
import { OversizedResponseError, parseRetryAfter, readCapped, retryAtAfter, scrubProviderText } from '../oauth/index.js';
import { normalizeBase } from './smart.js';

/**
 * `bad_response`: the server answered 200 with something that is not the FHIR JSON asked for
 * (too large, not JSON, a maintenance page, a search that is not a searchset Bundle, a looping
 * `next`). `incomplete`: a search was cut off at the page cap; what was read is kept.
 */
export type EpicErrorCode =
  'reauth_required' | 'forbidden' | 'rate_limited' | 'bad_request' | 'not_found' | 'server' | 'network' | 'bad_response' | 'incomplete';

/**
 * Largest FHIR response read. Real Epic search pages (50 resources, Epic's usual page size)
 * are tens to hundreds of KiB and a Patient with an inline photo a few MiB; 16 MiB leaves ample
 * room for those while keeping a hostile or broken server from making one sync buffer (and
 * JSON-parse, which costs several times the text) hundreds of MiB.
 */
export const MAX_FHIR_RESPONSE_BYTES = 16 * 1024 * 1024;

/** A FHIR call that failed; the message is safe to show (no token, no URL query). */
export class EpicError extends Error {
  override readonly name = 'EpicError';
  constructor(
    readonly code: EpicErrorCode,
    message: string,
    readonly status?: number,
    /** `rate_limited`: when the server asked to be tried again (its Retry-After), if it said. */
    readonly retryAt?: Date,
  ) {
    super(message);
  }
}

/** Supplies access tokens; `refresh(stale)` is called once after a 401 with the rejected token. */
export interface AccessTokenSource {
  get(): Promise<string>;
  refresh(stale: string): Promise<string>;
}

export interface FhirClientOptions {
  fetch?: typeof fetch;
  /** Retries after 429/503 (default 3). */
  maxRetries?: number;
  /**
   * Longest wait honoured in place (default 30 s). A Retry-After asking for longer is not cut
   * short: the call fails `rate_limited` at once with its `retryAt`, for the next sync to keep.
   */
  maxRetryDelayMs?: number;
  sleep?(ms: number): Promise<void>;
  /** Most pages followed per search (default 500) so a sync always ends. */
  maxPages?: number;
  /** Largest response body read (default {@link MAX_FHIR_RESPONSE_BYTES}). */
  maxResponseBytes?: number;
  /** Cancels the sync (its owner disconnected, the server stops). */
  signal?: AbortSignal;
}

type Json = Record<string, unknown>;

export class FhirClient {
  readonly base: string;
  constructor(
    base: string,
    private readonly tokens: AccessTokenSource,
    private readonly opts: FhirClientOptions = {},
  ) {
    this.base = normalizeBase(base);
  }

  /** GET a path under the base (or an absolute URL under it). */
  async get(pathOrUrl: string): Promise<Json> {
    const url = this.#underBase(pathOrUrl);
    const doFetch = this.opts.fetch ?? fetch;
    const sleep = this.opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    let token = await this.tokens.get();
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await doFetch(url, {
          headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json' },
          redirect: 'manual',
          signal: this.opts.signal ? AbortSignal.any([this.opts.signal, AbortSignal.timeout(60_000)]) : AbortSignal.timeout(60_000),
        });
      } catch (err) {
        if (this.opts.signal?.aborted) throw err;
        throw new EpicError('network', 'The health record server could not be reached.');
      }
      const type = new URL(url).pathname.slice(new URL(this.base).pathname.length).split('/')[1] ?? 'resource';
      if (res.ok) return this.#readJson(res, type);
      if (res.status === 401 && !refreshed) {
        await res.body?.cancel().catch(() => {});
        refreshed = true;
        token = await this.tokens.refresh(token);
        continue;
      }
      if (res.status === 429 || res.status === 503) {
        const hinted = parseRetryAfter(res.headers.get('retry-after'));
        // Asked to wait longer than a sync waits: trying sooner only earns another refusal.
        const within = hinted === null || hinted <= (this.opts.maxRetryDelayMs ?? 30_000);
        if (within && attempt < (this.opts.maxRetries ?? 3)) {
          await res.body?.cancel().catch(() => {});
          await sleep(hinted ?? 1000 * 2 ** attempt);
          continue;
        }
        await res.body?.cancel().catch(() => {});
        throw new EpicError(
          'rate_limited',
          'The health record server is busy or rate limiting this app. The next sync will try again.',
          res.status,
          hinted === null ? undefined : retryAtAfter(hinted),
        );
      }
      const text = outcomeText(await errorBody(res));
      // Provider text reaches the person and the integration's stored error: never the token.
      const detail = text === undefined ? undefined : scrubProviderText(text, [token]);
      switch (res.status) {
        case 401:
          throw new EpicError('reauth_required', 'The health record server no longer accepts this connection. Connect again.', 401);
        case 403:
          throw new EpicError('forbidden', `Access to ${type} was not granted${detail ? ` (${detail})` : ''}.`, 403);
        case 404:
          throw new EpicError('not_found', `${type} was not found.`, 404);
        default:
          throw new EpicError(
            res.status >= 500 ? 'server' : 'bad_request',
            `The health record server answered ${res.status} for ${type}${detail ? ` (${detail})` : ''}.`,
            res.status,
          );
      }
    }
  }

  /**
   * The body as a JSON object, read up to the cap. Provider text (an HTML maintenance page, a
   * parser message quoting it) never goes into the error: messages reach logs and the person.
   */
  async #readJson(res: Response, type: string): Promise<Json> {
    let bytes: Uint8Array;
    try {
      bytes = await readCapped(
        res,
        this.opts.maxResponseBytes ?? MAX_FHIR_RESPONSE_BYTES,
        `The health record server sent more than ${Math.round((this.opts.maxResponseBytes ?? MAX_FHIR_RESPONSE_BYTES) / 1024 / 1024)} MiB for ${type}; it was not read.`,
      );
    } catch (err) {
      if (err instanceof OversizedResponseError) throw new EpicError('bad_response', err.message, res.status);
      throw new EpicError('network', 'The health record server stopped answering mid-response.');
    }
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      throw new EpicError(
        'bad_response',
        `The health record server answered ${type} with something that is not FHIR data (it may be down for maintenance). The next sync will try again.`,
        res.status,
      );
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw new EpicError('bad_response', `The health record server answered ${type} with something that is not a FHIR resource.`, res.status);
    }
    return body as Json;
  }

  /**
   * Resolves a path or a server-sent link (a Bundle's `next`) and keeps it under the base,
   * judged on the parsed URL: WHATWG parsing removes `..` and `%2e%2e` segments, so a link that
   * starts with the base as text but climbs out of it is refused, as are other origins and
   * embedded credentials.
   */
  #underBase(pathOrUrl: string): string {
    const base = new URL(`${this.base}/`);
    let url: URL;
    try {
      url = /^https?:/i.test(pathOrUrl) ? new URL(pathOrUrl) : new URL(pathOrUrl.replace(/^\/+/, ''), base);
    } catch {
      throw new EpicError('bad_request', 'The server sent a link that is not a valid address; it was not followed.');
    }
    if (url.origin !== base.origin || url.username || url.password || !url.pathname.startsWith(base.pathname)) {
      throw new EpicError('bad_request', 'The server linked to a page outside its own address; it was not followed.');
    }
    return url.href;
  }

  /**
   * Every page of a search, following `next` links; yields each Bundle as it arrives.
   * @throws EpicError `bad_response` for a `next` that was already read (it would loop), and
   * `incomplete` when the page cap stops a search that still had a `next`, after yielding the
   * pages read: the caller keeps those and reports the rest as not read.
   */
  async *search(type: string, params: Record<string, string>): AsyncGenerator<Json> {
    let next: string | undefined = `${type}?${new URLSearchParams(params).toString()}`;
    const max = this.opts.maxPages ?? 500;
    const seen = new Set<string>();
    for (let pages = 0; next; pages++) {
      if (pages >= max) {
        throw new EpicError('incomplete', `The health record server had more than ${max} pages of ${type}; the rest was not read.`);
      }
      const url = this.#underBase(next);
      if (seen.has(url)) throw new EpicError('bad_response', `The health record server sent a ${type} page link that loops back to a page already read.`);
      seen.add(url);
      const bundle = await this.get(url);
      yield bundle;
      const links = Array.isArray(bundle.link) ? (bundle.link as Json[]) : [];
      const n = links.find((l) => l?.relation === 'next')?.url;
      next = typeof n === 'string' && n ? n : undefined;
    }
  }
}

/** An error answer's OperationOutcome, if it is one: read to a small cap, parsed or null. */
async function errorBody(res: Response): Promise<unknown> {
  try {
    return JSON.parse(new TextDecoder().decode(await readCapped(res, 64 * 1024, 'oversized error body')));
  } catch {
    return null;
  }
}

/** The first diagnostics/details text of an OperationOutcome, trimmed. */
export function outcomeText(body: unknown): string | undefined {
  const b = body as { resourceType?: string; issue?: Array<{ diagnostics?: string; details?: { text?: string } }> } | null;
  if (b?.resourceType !== 'OperationOutcome') return undefined;
  const i = b.issue?.[0];
  const t = i?.details?.text ?? i?.diagnostics;
  return typeof t === 'string' ? t.slice(0, 200) : undefined;
}
