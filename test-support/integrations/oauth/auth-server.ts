/**
 * A real OAuth 2.0 / OpenID Connect authorization server on 127.0.0.1 for tests: `/authorize`
 * answering with 302 redirects, `/token` checking client authentication, redirect URI, single
 * use codes and the PKCE S256 verifier, refresh tokens with rotation and revocation, `/revoke`
 * (RFC 7009) and `/jwks` with a generated RS256 key. Knobs forge id_tokens (alg none, wrong aud,
 * wrong nonce, bad signature, wrong issuer, expired), deny consent, expire access tokens and
 * revoke refresh tokens, so clients can be tested against each failure.
 * Used by the Google stand-in (`test-support/server/oidc-provider.ts`) and the SMART server.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export type IdTokenForgery = 'alg-none' | 'wrong-aud' | 'wrong-nonce' | 'bad-signature' | 'wrong-issuer' | 'expired' | 'foreign-key';

export interface TestClient {
  clientId: string;
  /** Present = confidential: the token endpoint then demands HTTP Basic (or client_secret_post). */
  clientSecret?: string;
  /** Exact redirect URIs accepted; empty = any. */
  redirectUris?: string[];
}

export interface AuthServerOptions {
  clients: TestClient[];
  /** Path of the issuer under the origin ('' = the origin itself). */
  issuerPath?: string;
  /** Path prefix of the OAuth endpoints (Epic: '/oauth2'). */
  oauthPath?: string;
  subject?: string;
  email?: string;
  accessTokenTtlSec?: number;
  /** Issue a new refresh token on each refresh and retire the old one (default true). */
  rotateRefreshTokens?: boolean;
  /** Issue a refresh token without `offline_access` (Google with access_type=offline). */
  refreshWithoutOfflineAccess?: boolean;
  /** Extra token-response fields on code exchange (SMART launch context: `{ patient }`). */
  launchContext?: Record<string, unknown>;
  /** Extra id_token claims (SMART: fhirUser). */
  idTokenClaims?: Record<string, unknown>;
  /** SMART: `aud` must equal this on /authorize. */
  requireAud?: string;
  /** Makes access tokens (a resource server stand-in that accepts one fixed token). */
  accessTokenFactory?: () => string;
}

export interface TokenInfo {
  sub: string;
  clientId: string;
  scope: string;
  expiresAt: number;
}

/** What the server saw, without any secret values. */
export interface AuthServerStats {
  authorizeRequests: number;
  codeExchanges: number;
  refreshes: number;
  revocations: number;
  failedTokenRequests: Array<{ grant: string; error: string }>;
  lastAuthorize?: Record<string, string>;
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer) => Promise<boolean> | boolean;

export interface AuthServer {
  origin: string;
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  revocationEndpoint: string;
  jwksUri: string;
  stats: AuthServerStats;
  /** 'approve' (default) or 'deny' the next authorizations. */
  consent: 'approve' | 'deny';
  /** Milliseconds the token endpoint waits before answering (to widen race windows). */
  tokenDelayMs: number;
  /** SMART: when set, `aud` on /authorize must equal it. */
  requireAud?: string;
  /** Extra claims put in every id_token (SMART: fhirUser). */
  idTokenClaims: Record<string, unknown>;
  setUser(user: { sub: string; email?: string }): void;
  forgeNextIdToken(forgery: IdTokenForgery): void;
  /** Who an access token belongs to, or null when unknown, revoked or expired. */
  checkAccessToken(token: string | undefined): TokenInfo | null;
  expireAccessTokens(): void;
  revokeAllRefreshTokens(): void;
  /** Answer the next `n` token requests with 429. */
  rateLimitToken(n: number): void;
  liveRefreshTokens(): number;
  /** Every code, access and refresh token issued, so tests can prove none leaked into logs. */
  issuedSecrets(): string[];
  close(): Promise<void>;
}

interface CodeGrant {
  clientId: string;
  redirectUri: string;
  challenge: string;
  scope: string;
  nonce?: string;
  sub: string;
  email?: string;
  expiresAt: number;
}

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const token = () => randomBytes(24).toString('base64url');
// RFC 7636 §4.6, computed here rather than by the client library under test.
const s256 = (verifier: string) => createHash('sha256').update(verifier, 'ascii').digest('base64url');

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

function redirect(res: ServerResponse, to: string): void {
  res.writeHead(302, { location: to, 'cache-control': 'no-store' });
  res.end();
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Starts the server; `extra` handles any route the OAuth server does not (FHIR, discovery). */
export async function startAuthServer(opts: AuthServerOptions, extra?: RouteHandler): Promise<AuthServer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const foreign = await generateKeyPair('RS256');
  const kid = randomBytes(8).toString('hex');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const oauthPath = opts.oauthPath ?? '';
  let user = { sub: opts.subject ?? `user-${randomBytes(4).toString('hex')}`, email: opts.email };
  const codes = new Map<string, CodeGrant>();
  const access = new Map<string, TokenInfo>();
  const refresh = new Map<string, { sub: string; clientId: string; scope: string; email?: string; live: boolean }>();
  const forgeries: IdTokenForgery[] = [];
  const issued: string[] = [];
  let limited = 0;
  const ttl = opts.accessTokenTtlSec ?? 3600;
  const stats: AuthServerStats = { authorizeRequests: 0, codeExchanges: 0, refreshes: 0, revocations: 0, failedTokenRequests: [] };

  let origin = '';
  const issuer = () => `${origin}${opts.issuerPath ?? ''}`;

  const signIdToken = async (claims: Record<string, unknown>, clientId: string): Promise<string> => {
    const forgery = forgeries.shift();
    const now = Math.floor(Date.now() / 1000);
    const payload: Record<string, unknown> = {
      ...server.idTokenClaims,
      ...claims,
      iss: forgery === 'wrong-issuer' ? 'https://evil.example' : issuer(),
      aud: forgery === 'wrong-aud' ? 'someone-else' : clientId,
      iat: forgery === 'expired' ? now - 7200 : now,
      exp: forgery === 'expired' ? now - 3600 : now + 300,
    };
    if (forgery === 'wrong-nonce') payload.nonce = 'not-the-nonce';
    if (forgery === 'alg-none') return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payload)}.`;
    const key: CryptoKey = forgery === 'foreign-key' ? foreign.privateKey : privateKey;
    const jwt = await new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(key);
    if (forgery !== 'bad-signature') return jwt;
    const [h, p, s] = jwt.split('.');
    // Flip bits in the middle of the signature: still valid base64url, no longer valid RSA.
    const sig = Buffer.from(s!, 'base64url');
    sig[sig.length >> 1]! ^= 0xff;
    return `${h}.${p}.${sig.toString('base64url')}`;
  };

  const clientAuth = (req: IncomingMessage, form: URLSearchParams): TestClient | 'invalid' => {
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    let id: string | null = form.get('client_id');
    let secret: string | null = form.get('client_secret');
    if (basic) {
      const [u, p] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
      id = decodeURIComponent((u ?? '').replace(/\+/g, ' '));
      secret = decodeURIComponent((p ?? '').replace(/\+/g, ' '));
    }
    const c = opts.clients.find((x) => x.clientId === id);
    if (!c) return 'invalid';
    if (c.clientSecret ? secret !== c.clientSecret : secret) return 'invalid';
    return c;
  };

  const issueTokens = async (
    grant: { sub: string; clientId: string; scope: string; email?: string; nonce?: string },
    withRefresh: boolean,
    withIdToken: boolean,
  ) => {
    const at = opts.accessTokenFactory?.() ?? token();
    issued.push(at);
    access.set(at, { sub: grant.sub, clientId: grant.clientId, scope: grant.scope, expiresAt: Date.now() + ttl * 1000 });
    const out: Record<string, unknown> = { access_token: at, token_type: 'Bearer', expires_in: ttl, scope: grant.scope };
    if (withRefresh) {
      const rt = token();
      issued.push(rt);
      refresh.set(rt, { sub: grant.sub, clientId: grant.clientId, scope: grant.scope, email: grant.email, live: true });
      out.refresh_token = rt;
    }
    if (withIdToken) {
      const claims: Record<string, unknown> = { sub: grant.sub };
      if (grant.nonce) claims.nonce = grant.nonce;
      if (grant.email) Object.assign(claims, { email: grant.email, email_verified: true });
      out.id_token = await signIdToken(claims, grant.clientId);
      issued.push(out.id_token as string);
    }
    return out;
  };

  const tokenEndpoint = async (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const form = new URLSearchParams(body.toString('utf8'));
    const grantType = form.get('grant_type') ?? '';
    const fail = (status: number, error: string) => {
      stats.failedTokenRequests.push({ grant: grantType, error });
      sendJson(res, status, { error });
    };
    if (server.tokenDelayMs) await new Promise((r) => setTimeout(r, server.tokenDelayMs));
    if (limited > 0) {
      limited -= 1;
      return sendJson(res, 429, { error: 'slow_down' }, { 'retry-after': '1' });
    }
    if (!/application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '')) return fail(400, 'invalid_request');
    const client = clientAuth(req, form);
    if (client === 'invalid') return fail(401, 'invalid_client');
    if (grantType === 'authorization_code') {
      const code = form.get('code') ?? '';
      const g = codes.get(code);
      codes.delete(code);
      if (!g || g.expiresAt < Date.now() || g.clientId !== client.clientId) return fail(400, 'invalid_grant');
      if (g.redirectUri !== form.get('redirect_uri')) return fail(400, 'invalid_grant');
      const verifier = form.get('code_verifier') ?? '';
      if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || s256(verifier) !== g.challenge) return fail(400, 'invalid_grant');
      stats.codeExchanges += 1;
      const scopes = g.scope.split(' ');
      const out = await issueTokens(g, scopes.includes('offline_access') || !!opts.refreshWithoutOfflineAccess, scopes.includes('openid'));
      return sendJson(res, 200, { ...out, ...(scopes.some((s) => s.startsWith('launch')) ? opts.launchContext : {}) });
    }
    if (grantType === 'refresh_token') {
      const rt = form.get('refresh_token') ?? '';
      const r = refresh.get(rt);
      if (!r || !r.live || r.clientId !== client.clientId) return fail(400, 'invalid_grant');
      stats.refreshes += 1;
      const rotate = opts.rotateRefreshTokens ?? true;
      if (rotate) r.live = false;
      const out = await issueTokens(r, rotate, false);
      return sendJson(res, 200, out);
    }
    return fail(400, 'unsupported_grant_type');
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', origin);
    const body = req.method === 'POST' ? await readBody(req) : Buffer.alloc(0);
    const p = url.pathname;
    if (req.method === 'GET' && p === `${opts.issuerPath ?? ''}/.well-known/openid-configuration`) {
      return sendJson(res, 200, {
        issuer: issuer(),
        authorization_endpoint: server.authorizationEndpoint,
        token_endpoint: server.tokenEndpoint,
        revocation_endpoint: server.revocationEndpoint,
        jwks_uri: server.jwksUri,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
        scopes_supported: ['openid', 'email', 'profile'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      });
    }
    if (req.method === 'GET' && p === `${oauthPath}/jwks`) return sendJson(res, 200, { keys: [jwk] });
    if (req.method === 'GET' && p === `${oauthPath}/authorize`) {
      stats.authorizeRequests += 1;
      const q = Object.fromEntries(url.searchParams);
      stats.lastAuthorize = q;
      const client = opts.clients.find((c) => c.clientId === q.client_id);
      // An unknown client or redirect URI must not redirect anywhere (open redirector).
      if (!client || !q.redirect_uri || (client.redirectUris?.length && !client.redirectUris.includes(q.redirect_uri))) {
        return sendJson(res, 400, { error: 'invalid_request' });
      }
      const back = (params: Record<string, string | undefined>) => {
        const to = new URL(q.redirect_uri!);
        for (const [k, v] of Object.entries(params)) if (v !== undefined) to.searchParams.set(k, v);
        redirect(res, to.toString());
      };
      if (q.response_type !== 'code') return back({ error: 'unsupported_response_type', state: q.state });
      if (q.code_challenge_method !== 'S256' || !q.code_challenge) return back({ error: 'invalid_request', state: q.state });
      if (!q.state) return back({ error: 'invalid_request' });
      const aud = server.requireAud ?? opts.requireAud;
      if (aud && q.aud !== aud) return back({ error: 'invalid_request', state: q.state });
      if (server.consent === 'deny') return back({ error: 'access_denied', state: q.state });
      const code = token();
      issued.push(code);
      codes.set(code, {
        clientId: client.clientId,
        redirectUri: q.redirect_uri,
        challenge: q.code_challenge,
        scope: q.scope ?? '',
        nonce: q.nonce,
        sub: user.sub,
        email: user.email,
        expiresAt: Date.now() + 60_000,
      });
      return back({ code, state: q.state });
    }
    if (req.method === 'POST' && p === `${oauthPath}/token`) return tokenEndpoint(req, res, body);
    if (req.method === 'POST' && p === `${oauthPath}/revoke`) {
      const form = new URLSearchParams(body.toString('utf8'));
      if (clientAuth(req, form) === 'invalid') return sendJson(res, 401, { error: 'invalid_client' });
      const t = form.get('token') ?? '';
      stats.revocations += 1;
      const r = refresh.get(t);
      if (r) {
        r.live = false;
        // Revoking a refresh token ends the grant's access tokens too (RFC 7009 §2.1 "should").
        for (const [k, v] of access) if (v.sub === r.sub && v.clientId === r.clientId) access.delete(k);
      }
      access.delete(t);
      res.writeHead(200);
      return void res.end();
    }
    if (extra && (await extra(req, res, url, body))) return;
    sendJson(res, 404, { error: 'not_found' });
  };

  const http: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: 'server_error', detail: String(err) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  const server: AuthServer = {
    origin,
    issuer: issuer(),
    authorizationEndpoint: `${origin}${oauthPath}/authorize`,
    tokenEndpoint: `${origin}${oauthPath}/token`,
    revocationEndpoint: `${origin}${oauthPath}/revoke`,
    jwksUri: `${origin}${oauthPath}/jwks`,
    stats,
    consent: 'approve',
    tokenDelayMs: 0,
    requireAud: opts.requireAud,
    idTokenClaims: { ...opts.idTokenClaims },
    setUser: (u) => {
      user = { sub: u.sub, email: u.email };
    },
    forgeNextIdToken: (f) => {
      forgeries.push(f);
    },
    checkAccessToken: (t) => {
      if (!t) return null;
      const info = access.get(t);
      return info && info.expiresAt > Date.now() ? info : null;
    },
    expireAccessTokens: () => {
      for (const v of access.values()) v.expiresAt = 0;
    },
    revokeAllRefreshTokens: () => {
      for (const v of refresh.values()) v.live = false;
    },
    rateLimitToken: (n) => {
      limited = n;
    },
    issuedSecrets: () => [...issued],
    liveRefreshTokens: () => [...refresh.values()].filter((r) => r.live).length,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
  return server;
}
