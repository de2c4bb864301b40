import { hkdfSync } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DecryptError, openRecord, sealRecord } from '../../crypto/index.js';
import type { Config } from '../config.js';

/**
 * Short-lived state carried by the browser between an OAuth redirect and its callback (state,
 * nonce, PKCE verifier, who started it) or between the Google callback and the passphrase step.
 * Sealed (AES-256-GCM with a key commitment) under a key derived from SERVER_KEY per cookie name,
 * so the browser can neither read the verifier nor forge a pending identity, and nothing of it
 * ever appears in a URL. Expiry is inside the sealed payload, not only in the cookie attributes.
 */
export interface SealedCookieOptions {
  name: string;
  path: string;
  /** 'lax' for state that must survive the provider's cross-site redirect back to us. */
  sameSite: 'lax' | 'strict';
  ttlMs: number;
}

const keyFor = (config: Config, name: string) => Buffer.from(hkdfSync('sha256', config.serverKey, Buffer.alloc(0), `cv1|cookie|${name}`, 32));
const aadFor = (name: string) => `v1|cookie|${name}`;

export function setSealedCookie(reply: FastifyReply, config: Config, o: SealedCookieOptions, payload: Record<string, unknown>): void {
  const body = Buffer.from(JSON.stringify({ ...payload, exp: Date.now() + o.ttlMs }));
  const value = sealRecord(keyFor(config, o.name), body, aadFor(o.name)).toString('base64url');
  reply.setCookie(o.name, value, { httpOnly: true, secure: config.secureCookies, sameSite: o.sameSite, path: o.path, maxAge: Math.ceil(o.ttlMs / 1000) });
}

/** The payload, or null when absent, tampered with, sealed under another name, or expired. */
export function readSealedCookie<T extends Record<string, unknown>>(req: FastifyRequest, config: Config, name: string): T | null {
  const raw = req.cookies[name];
  if (!raw || raw.length > 4096) return null;
  try {
    const data = JSON.parse(openRecord(keyFor(config, name), Buffer.from(raw, 'base64url'), aadFor(name)).toString('utf8')) as T & { exp?: number };
    if (typeof data.exp !== 'number' || data.exp < Date.now()) return null;
    return data;
  } catch (err) {
    if (err instanceof DecryptError || err instanceof SyntaxError || err instanceof RangeError) return null;
    throw err;
  }
}

export function clearSealedCookie(reply: FastifyReply, config: Config, o: Pick<SealedCookieOptions, 'name' | 'path' | 'sameSite'>): void {
  reply.clearCookie(o.name, { httpOnly: true, secure: config.secureCookies, sameSite: o.sameSite, path: o.path });
}
