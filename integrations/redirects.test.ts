import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EpicError, FhirClient } from './epic/fhir-client.js';
import { fetchDataPointsPage, GoogleHealthError } from './google-health/client.js';
import { OAuthError } from './oauth/errors.js';
import { fetchJson } from './oauth/discovery.js';
import { OAuthProvider } from './oauth/provider.js';

/**
 * Every outbound call to a provider refuses redirects: a provider (or whoever controls its DNS
 * or a path on it) answering 302 to 127.0.0.1 must not make the server call an internal
 * address, with or without the user's bearer token.
 */

const listen = async (server: Server) => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

let trapHits: string[] = [];
let trap: Server;
let trapUrl: string;
let provider: Server;
let providerUrl: string;
const fhirPaths: string[] = [];

beforeAll(async () => {
  // The internal service a redirect would reach: answers 200 with JSON to anything.
  trap = createServer((req, res) => {
    trapHits.push(`${req.method} ${req.url} auth=${req.headers.authorization ? 'yes' : 'no'}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"resourceType":"Bundle","access_token":"x","token_type":"Bearer"}');
  });
  trapUrl = await listen(trap);
  // A provider that redirects every call to the trap, except a small FHIR server under /fhir/R4.
  provider = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/fhir/') || url.startsWith('/secret')) {
      fhirPaths.push(url);
      if (url.startsWith('/fhir/R4/Observation?page=1')) {
        const next = decodeURIComponent(new URL(url, providerUrl).searchParams.get('next') ?? '');
        res
          .writeHead(200, { 'content-type': 'application/fhir+json' })
          .end(JSON.stringify({ resourceType: 'Bundle', link: [{ relation: 'next', url: next }] }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/fhir+json' }).end('{"resourceType":"Bundle","entry":[]}');
      return;
    }
    res.writeHead(302, { location: `${trapUrl}/stolen${url}` }).end();
  });
  providerUrl = await listen(provider);
});

afterAll(async () => {
  await new Promise((r) => trap.close(r));
  await new Promise((r) => provider.close(r));
});

const tokens = { get: async () => 'access-token-SECRET', refresh: async () => 'access-token-SECRET' };

describe('provider calls never follow redirects', () => {
  it('Google Health data API', async () => {
    trapHits = [];
    const err = await fetchDataPointsPage('access-token-SECRET', 'steps', {}, { baseUrl: providerUrl, sleep: async () => {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GoogleHealthError);
    expect((err as GoogleHealthError).status).toBe(302);
    expect((err as Error).message).not.toContain('SECRET');
    expect(trapHits).toEqual([]);
  });

  it('Epic FHIR reads', async () => {
    trapHits = [];
    const err = await new FhirClient(`${providerUrl}/api/FHIR/R4`, tokens).get('Patient/1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EpicError);
    expect(trapHits).toEqual([]);
  });

  it('OAuth token requests and discovery (Epic, Google Health and Google sign-in)', async () => {
    trapHits = [];
    const policy = { allowHttpLoopback: true };
    const provider = await OAuthProvider.fromMetadata(
      { issuer: providerUrl, token_endpoint: `${providerUrl}/token` },
      { clientId: 'id', clientSecret: 's' },
      policy,
    );
    const token = await provider
      .exchangeCode(new URLSearchParams({ code: 'c', state: 's' }), { redirectUri: 'https://vault.example/cb', verifier: 'v'.repeat(43), state: 's' })
      .catch((e: unknown) => e);
    expect(token).toBeInstanceOf(OAuthError);
    const discovery = await fetchJson(`${providerUrl}/.well-known/openid-configuration`, policy).catch((e: unknown) => e);
    expect(discovery).toBeInstanceOf(OAuthError);
    const oidc = await OAuthProvider.discover(providerUrl, { clientId: 'id' }, policy).catch((e: unknown) => e);
    expect(oidc).toBeInstanceOf(OAuthError);
    expect(trapHits).toEqual([]);
  });
});

describe('FHIR next links are checked on the parsed URL', () => {
  const follow = async (next: string) => {
    const client = new FhirClient(`${providerUrl}/fhir/R4`, tokens);
    const pages: unknown[] = [];
    const run = async () => {
      for await (const page of client.search('Observation', { page: '1', next })) pages.push(page);
    };
    return { err: await run().catch((e: unknown) => e), pages };
  };

  it('follows a next link under the base', async () => {
    const r = await follow(`${providerUrl}/fhir/R4/Observation?page=2`);
    expect(r.err).toBeUndefined();
    expect(r.pages).toHaveLength(2);
  });

  for (const escape of ['/fhir/R4/../../secret', '/fhir/R4/%2e%2e/%2E%2E/secret', '/fhir/R4/./../R4x/../../secret']) {
    it(`refuses ${escape}`, async () => {
      fhirPaths.length = 0;
      const r = await follow(`${providerUrl}${escape}`);
      expect(r.err).toBeInstanceOf(EpicError);
      expect((r.err as Error).message).toMatch(/outside its own address/);
      expect(fhirPaths.some((p) => p.startsWith('/secret'))).toBe(false);
    });
  }

  it('refuses another origin and embedded credentials', async () => {
    for (const next of [`${trapUrl}/fhir/R4/Observation`, providerUrl.replace('http://', 'http://user:pw@') + '/fhir/R4/Observation']) {
      trapHits = [];
      const r = await follow(next);
      expect(r.err).toBeInstanceOf(EpicError);
      expect(trapHits).toEqual([]);
    }
  });
});
