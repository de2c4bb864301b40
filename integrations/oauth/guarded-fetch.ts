import type { CustomFetch } from 'openid-client';
import { assertSafeEndpoint, type EndpointPolicy } from './endpoint-guard.js';

/** Largest OAuth response read (discovery, JWKS, token): real ones are a few KiB. */
export const MAX_OAUTH_RESPONSE_BYTES = 256 * 1024;

/** A provider answered more than {@link MAX_OAUTH_RESPONSE_BYTES}; the rest was not read. */
export class OversizedResponseError extends Error {
  override readonly name = 'OversizedResponseError';
}

/** The provider could not be reached; the message names the host only. */
export class UnreachableError extends Error {
  override readonly name = 'UnreachableError';
}

/**
 * The fetch every OAuth/OIDC request goes through (openid-client's `customFetch`): each URL is
 * checked by the endpoint guard right before it is called (discovered endpoints and the JWKS
 * included), redirects are answered, never followed, and the body is read up to a cap so a
 * hostile provider cannot make the server buffer without bound.
 */
export function guardedFetch(policy: EndpointPolicy, fetchImpl: typeof fetch = fetch): CustomFetch {
  return async (raw, options) => {
    const url = await assertSafeEndpoint(raw, policy);
    let res: Response;
    try {
      res = await fetchImpl(url, {
        method: options.method,
        headers: options.headers,
        body: options.body as RequestInit['body'],
        redirect: 'manual',
        signal: options.signal ?? AbortSignal.timeout(30_000),
      });
    } catch (err) {
      if (options.signal?.aborted) throw err;
      throw new UnreachableError(`The sign-in server at ${url.host} could not be reached.`);
    }
    const body = await readCapped(res, MAX_OAUTH_RESPONSE_BYTES, `The sign-in server at ${url.host} sent an oversized response.`);
    // 204/304 and friends may not carry a body in a Response.
    const empty = res.status === 204 || res.status === 304 || body.byteLength === 0;
    return new Response(empty ? null : body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

/**
 * Reads a response body up to `maxBytes`, stopping (and cancelling the rest) as soon as the cap
 * is passed, so a hostile or broken server cannot make this process buffer without bound.
 * @throws OversizedResponseError with `message` once the body (or its Content-Length) is larger.
 */
export async function readCapped(res: Response, maxBytes: number, message: string): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(0);
  const declared = Number(res.headers.get('content-length'));
  if (declared > maxBytes) {
    await res.body.cancel().catch(() => {});
    throw new OversizedResponseError(message);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new OversizedResponseError(message);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
