import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { forbidden, unauthorized } from '../errors.js';
import type { NewSession } from '../services/auth.service.js';
import type { SessionContext } from '../services/keyring.js';

export const SESSION_COOKIE = 'cv_session';

declare module 'fastify' {
  interface FastifyRequest {
    session: SessionContext | null;
  }
}

export function setSessionCookie(reply: FastifyReply, config: Config, session: NewSession): void {
  reply.setCookie(SESSION_COOKIE, session.cookie, {
    httpOnly: true,
    sameSite: 'strict',
    secure: config.secureCookies,
    path: '/',
    expires: session.expiresAt,
  });
}

export function clearSessionCookie(reply: FastifyReply, config: Config): void {
  reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', secure: config.secureCookies, path: '/' });
}

/** The signed-in user's context, or a 401. */
export function requireSession(req: FastifyRequest): SessionContext {
  if (!req.session) throw unauthorized();
  return req.session;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Cookie-authenticated writes must come from our own pages. SameSite=Strict already keeps the
 * cookie off cross-site requests; this refuses a foreign Origin as a second line.
 */
export function checkOrigin(req: FastifyRequest, config: Config): void {
  if (!MUTATING.has(req.method)) return;
  if (req.headers['sec-fetch-site'] === 'cross-site') throw forbidden('Cross-site requests are not allowed.', 'forbidden_origin');
  const origin = req.headers.origin;
  if (!origin) return;
  const allowed = new Set([config.publicUrl.origin]);
  if (req.headers.host) allowed.add(`${req.protocol}://${req.headers.host}`);
  if (!allowed.has(origin)) throw forbidden('Requests from other sites are not allowed.', 'forbidden_origin');
}
