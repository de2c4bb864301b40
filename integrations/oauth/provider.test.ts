import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OAuthError } from './errors.js';
import { newFlowSecrets, OAuthProvider } from './provider.js';
import { startAuthServer, type AuthServer, type IdTokenForgery } from '../../test-support/integrations/oauth/auth-server.js';

/**
 * The OAuth client as the services use it (openid-client under the endpoint guard), against the
 * real authorization server stand-in over HTTP: a confidential client with an id_token (Google
 * sign-in), a public client without one (a SMART server that names no JWKS), and each failure
 * the services turn into a redirect error code.
 */

const REDIRECT = 'https://vault.example/cb';
const SECRET = 'client-secret-SECRET';
const policy = { allowHttpLoopback: true };
let as: AuthServer;
// A misbehaving provider: a document naming another issuer, and one that never ends.
let rawServer: Server;
let raw = '';
// Far more than the cap, so only a reader that stops early gets an answer in time.
const LIMIT = 64 * 1024 * 1024;
let hugeSent = 0;

beforeAll(async () => {
  rawServer = createServer((req, res) => {
    if (req.url === '/other/.well-known/openid-configuration') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ issuer: 'https://evil.example', token_endpoint: 'https://evil.example/t' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.on('error', () => {});
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = () => {
      while (hugeSent < LIMIT && res.write(chunk)) hugeSent += chunk.length;
      if (hugeSent >= LIMIT) res.end();
      else res.once('drain', pump);
    };
    pump();
  });
  await new Promise<void>((r) => rawServer.listen(0, '127.0.0.1', r));
  raw = `http://127.0.0.1:${(rawServer.address() as AddressInfo).port}`;
  as = await startAuthServer({
    clients: [
      { clientId: 'confidential', clientSecret: SECRET, redirectUris: [REDIRECT] },
      { clientId: 'public', redirectUris: [REDIRECT] },
    ],
    subject: 'sub-1',
    email: 'ada@example.com',
  });
});
afterAll(async () => {
  rawServer?.closeAllConnections();
  await Promise.all([as?.close(), new Promise((r) => rawServer?.close(r))]);
});

/** Runs /authorize for real and returns the provider's redirect query. */
async function authorize(provider: OAuthProvider, scope: string, withNonce = true) {
  const s = await newFlowSecrets();
  const url = provider.authorizationUrl({
    redirect_uri: REDIRECT,
    scope,
    state: s.state,
    ...(withNonce ? { nonce: s.nonce } : {}),
    code_challenge: s.challenge,
    code_challenge_method: 'S256',
  });
  const res = await fetch(url, { redirect: 'manual' });
  expect(res.status).toBe(302);
  return { s, callback: new URL(res.headers.get('location')!).searchParams };
}

describe('OAuthProvider (openid-client with the endpoint guard as its fetch)', () => {
  it('discovers, exchanges a code with PKCE and validates the id_token, then refreshes and revokes', async () => {
    const provider = await OAuthProvider.discover(as.issuer, { clientId: 'confidential', clientSecret: SECRET }, policy);
    expect(provider.metadata.token_endpoint).toBe(as.tokenEndpoint);
    const { s, callback } = await authorize(provider, 'openid email offline_access');
    expect(as.stats.lastAuthorize).toMatchObject({ client_id: 'confidential', response_type: 'code', code_challenge_method: 'S256' });
    const { tokens, claims } = await provider.exchangeCode(callback, { redirectUri: REDIRECT, verifier: s.verifier, state: s.state, nonce: s.nonce });
    expect(claims).toMatchObject({ sub: 'sub-1', email: 'ada@example.com', email_verified: true, aud: 'confidential', iss: as.issuer });
    expect(as.checkAccessToken(tokens.access_token)?.sub).toBe('sub-1');

    const live = as.liveRefreshTokens();
    const refreshed = await provider.refresh(tokens.refresh_token!);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(as.checkAccessToken(refreshed.access_token)?.sub).toBe('sub-1');
    const reused = await provider.refresh(tokens.refresh_token!).catch((e: unknown) => e);
    expect(reused).toMatchObject({ code: 'invalid_grant' });
    expect(await provider.revoke(refreshed.refresh_token!, 'refresh_token')).toBe(true);
    expect(as.liveRefreshTokens()).toBe(live - 1);
  });

  it('works as a public client without an id_token when the document names no JWKS', async () => {
    const provider = await OAuthProvider.fromMetadata(
      { issuer: 'https://fhir.example/R4', authorization_endpoint: as.authorizationEndpoint, token_endpoint: as.tokenEndpoint },
      { clientId: 'public' },
      policy,
    );
    const { s, callback } = await authorize(provider, 'launch/patient offline_access patient/*.read', false);
    const { tokens, claims } = await provider.exchangeCode(callback, { redirectUri: REDIRECT, verifier: s.verifier, state: s.state });
    expect(claims).toBeUndefined();
    expect(tokens.refresh_token).toBeTruthy();
    // No revocation endpoint in the document: nothing is sent.
    expect(await provider.revoke(tokens.refresh_token!, 'refresh_token')).toBe(false);
  });

  const reasons: Record<IdTokenForgery, RegExp> = {
    'alg-none': /algorithm/,
    'wrong-aud': /claim aud/,
    'wrong-nonce': /claim nonce/,
    'bad-signature': /signature/,
    'wrong-issuer': /claim iss/,
    expired: /expired/,
    'foreign-key': /signature|unknown key/,
  };
  for (const [forgery, reason] of Object.entries(reasons) as [IdTokenForgery, RegExp][]) {
    it(`refuses an id_token with ${forgery}, saying why without any token`, async () => {
      const provider = await OAuthProvider.discover(as.issuer, { clientId: 'confidential', clientSecret: SECRET }, policy);
      const { s, callback } = await authorize(provider, 'openid email');
      as.forgeNextIdToken(forgery);
      const err = await provider
        .exchangeCode(callback, { redirectUri: REDIRECT, verifier: s.verifier, state: s.state, nonce: s.nonce })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OAuthError);
      expect(err).toMatchObject({ code: 'invalid_id_token', message: expect.stringMatching(reason) });
      expect((err as Error).cause).toBeUndefined();
      for (const secret of [...as.issuedSecrets(), SECRET, s.verifier]) expect((err as Error).message).not.toContain(secret);
    });
  }

  it('maps a wrong verifier, bad credentials and rate limiting to stable codes', async () => {
    const provider = await OAuthProvider.discover(as.issuer, { clientId: 'confidential', clientSecret: SECRET }, policy);
    const a = await authorize(provider, 'email');
    const badVerifier = await provider
      .exchangeCode(a.callback, { redirectUri: REDIRECT, verifier: (await newFlowSecrets()).verifier, state: a.s.state })
      .catch((e: unknown) => e);
    expect(badVerifier).toMatchObject({ code: 'invalid_grant' });

    const impostor = await OAuthProvider.discover(as.issuer, { clientId: 'confidential', clientSecret: 'wrong' }, policy);
    const b = await authorize(impostor, 'email');
    const badClient = await impostor.exchangeCode(b.callback, { redirectUri: REDIRECT, verifier: b.s.verifier, state: b.s.state }).catch((e: unknown) => e);
    expect(badClient).toMatchObject({ code: 'invalid_client', status: 401 });

    const c = await authorize(provider, 'email');
    as.rateLimitToken(1);
    const limited = await provider.exchangeCode(c.callback, { redirectUri: REDIRECT, verifier: c.s.verifier, state: c.s.state }).catch((e: unknown) => e);
    expect(limited).toMatchObject({ code: 'rate_limited', status: 429 });
  });

  it('refuses a discovery document naming another issuer, plain http without the loopback policy, and private endpoints', async () => {
    expect(await OAuthProvider.discover(`${as.origin}/`, { clientId: 'public' }, policy)).toBeInstanceOf(OAuthProvider);
    const other = await OAuthProvider.discover(`${raw}/other`, { clientId: 'public' }, policy).catch((e: unknown) => e);
    expect(other).toMatchObject({ code: 'discovery_failed', message: expect.stringMatching(/another issuer/) });
    expect(await OAuthProvider.discover(as.issuer, { clientId: 'public' }).catch((e: unknown) => e)).toMatchObject({ code: 'unsafe_endpoint' });
    const metadata = { issuer: 'https://as.example', authorization_endpoint: 'https://as.example/a', token_endpoint: 'https://10.0.0.7/token' };
    const refused = await OAuthProvider.fromMetadata(metadata, { clientId: 'public' }, { resolve: async () => ['93.184.215.14'] }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'unsafe_endpoint', message: expect.stringMatching(/private or link-local/) });
  });

  it('refuses a PKCE-less provider and stops reading an oversized response', async () => {
    const plainOnly = { issuer: 'https://as.example', token_endpoint: as.tokenEndpoint, code_challenge_methods_supported: ['plain'] };
    expect(await OAuthProvider.fromMetadata(plainOnly, { clientId: 'public' }, policy).catch((e: unknown) => e)).toMatchObject({ code: 'discovery_failed' });
    const err = await OAuthProvider.discover(`${raw}/huge`, { clientId: 'public' }, policy).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'discovery_failed', message: expect.stringMatching(/oversized/) });
  });
});
