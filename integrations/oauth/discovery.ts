import type { EndpointPolicy } from './endpoint-guard.js';
import { toOAuthError } from './errors.js';
import { guardedFetch } from './guarded-fetch.js';

/**
 * GETs a JSON document through the guarded fetch (for discovery documents that are not at an
 * issuer-derived path, such as SMART's). No redirect is followed; the size is capped.
 * @throws OAuthError('discovery_failed' | 'unsafe_endpoint')
 */
export async function fetchJson(raw: string, policy: EndpointPolicy = {}): Promise<unknown> {
  const host = URL.canParse(raw) ? new URL(raw).host : 'the provider';
  let res: Response;
  try {
    res = await guardedFetch(policy)(raw, {
      method: 'GET',
      headers: { accept: 'application/json' },
      body: undefined,
      redirect: 'manual',
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    throw toOAuthError(err, 'discovery', host);
  }
  if (!res.ok) throw toOAuthError(res, 'discovery', host);
  return res.json().catch((err: unknown) => {
    throw toOAuthError(err, 'discovery', host);
  });
}

/** Caches discovery per key for `ttlMs`, so sign-in does not fetch it on every request. */
export class DiscoveryCache<T> {
  readonly #entries = new Map<string, { value: Promise<T>; until: number }>();
  constructor(
    private readonly load: (key: string) => Promise<T>,
    private readonly ttlMs = 3_600_000,
  ) {}

  get(key: string): Promise<T> {
    const e = this.#entries.get(key);
    if (e && e.until > Date.now()) return e.value;
    const value = this.load(key);
    this.#entries.set(key, { value, until: Date.now() + this.ttlMs });
    value.catch(() => this.#entries.delete(key));
    return value;
  }
}
