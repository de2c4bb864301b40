import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { forbidden, unauthorized } from '../errors.js';
import type { NewSession } from '../services/auth.service.js';
import type { SessionContext } from '../services/keyring.js';

export const SESSION_COOKIE = 'cv_session';

/**
 * Over HTTPS the cookie carries the `__Host-` prefix: browsers then accept it only with Secure,
 * Path=/ and no Domain, so a sibling subdomain (or a plain-HTTP page on the same host) cannot
 * plant or overwrite it.
 */
export const sessionCookieName = (config: Pick<Config, 'secureCookies'>) => (config.secureCookies ? `__Host-${SESSION_COOKIE}` : SESSION_COOKIE);

declare module 'fastify' {
  interface FastifyRequest {
    session: SessionContext | null;
  }
}

export function setSessionCookie(reply: FastifyReply, config: Config, session: NewSession): void {
  reply.setCookie(sessionCookieName(config), session.cookie, {
    httpOnly: true,
    sameSite: 'strict',
    secure: config.secureCookies,
    path: '/',
    expires: session.expiresAt,
  });
}

export function clearSessionCookie(reply: FastifyReply, config: Config): void {
  reply.clearCookie(sessionCookieName(config), { httpOnly: true, sameSite: 'strict', secure: config.secureCookies, path: '/' });
}

/** The signed-in user's context, or a 401. */
export function requireSession(req: FastifyRequest): SessionContext {
  if (!req.session) throw unauthorized();
  return req.session;
}

/**
 * Whether a request is for the API, decided on the path the router matched (find-my-way decodes
 * `/%61pi/...` to `/api/...`), so an encoded spelling cannot skip the API's checks. Requests no
 * route matched are judged on their decoded path.
 */
export function isApiRequest(req: FastifyRequest): boolean {
  const routed = req.routeOptions.url;
  if (routed !== undefined) return routed.startsWith('/api/');
  const raw = req.url.split('?')[0]!;
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return true; // undecodable: treat as API, the stricter side
  }
  return decoded.startsWith('/api/') || decoded === '/api';
}

/** `Authorization: Bearer <token>` compared in constant time (both sides hashed to equal length). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const given = createHash('sha256')
    .update(header ?? '')
    .digest();
  const wanted = createHash('sha256').update(`Bearer ${token}`).digest();
  return timingSafeEqual(given, wanted);
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Cookie-authenticated writes must come from our own pages. SameSite=Strict already keeps the
 * cookie off cross-site requests; this refuses a foreign Origin as a second line. Once the
 * operator has said where the vault lives (PUBLIC_URL), only that origin: a page whose name was
 * rebound to this server sends a Host that matches its own Origin, and could otherwise drive the
 * sign-in routes from every visitor's browser. Without PUBLIC_URL (a laptop, a LAN address) the
 * address the browser used is the only one there is.
 */
export function checkOrigin(req: FastifyRequest, config: Config): void {
  if (!MUTATING.has(req.method)) return;
  if (req.headers['sec-fetch-site'] === 'cross-site') throw forbidden('Cross-site requests are not allowed.', 'forbidden_origin');
  const origin = req.headers.origin;
  if (!origin) return;
  if (origin === config.publicUrl.origin) return;
  if (!config.PUBLIC_URL && req.headers.host && origin === `${req.protocol}://${req.headers.host}`) return;
  throw forbidden(
    config.PUBLIC_URL
      ? `Requests from other sites are not allowed: this vault's address is ${config.publicUrl.origin}.`
      : 'Requests from other sites are not allowed.',
    'forbidden_origin',
  );
}
