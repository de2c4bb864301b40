import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { smartAuthorizeUrl, smartScopes } from './smart.js';
import { lastUpdatedTypes } from './sync.js';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));

describe('SMART discovery documents (real captures)', () => {
  it('asks Epic for v1 scopes without openid when its document names no issuer or JWKS', () => {
    const epic = fixture('epic_smart-configuration_apotti-fi.json');
    expect(smartScopes(epic)).toBe('launch/patient offline_access patient/*.read');
    const url = new URL(
      smartAuthorizeUrl(epic, {
        clientId: 'c',
        redirectUri: 'https://vault.example/cb',
        fhirBase: 'https://fhir.example/R4/',
        state: 's'.repeat(43),
        nonce: 'n',
        codeChallenge: 'x',
      }),
    );
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('aud')).toBe('https://fhir.example/R4');
    expect(url.searchParams.has('nonce')).toBe(false);
  });

  it('uses the v2 `.rs` form where the server advertises it', () => {
    const hl7 = fixture('hl7-smart-app-launch_sample-smart-configuration.json');
    expect(smartScopes({ ...hl7, issuer: 'https://ehr.example.com', jwks_uri: 'https://ehr.example.com/jwks' })).toBe(
      'launch/patient openid fhirUser offline_access patient/*.rs',
    );
  });

  it("finds no _lastUpdated search in Epic's R4 CapabilityStatement, so re-syncs are full and deduped", () => {
    expect(lastUpdatedTypes(fixture('epic_capability_r4_apotti-fi.json')).size).toBe(0);
    expect([...lastUpdatedTypes({ rest: [{ resource: [{ type: 'Condition', searchParam: [{ name: '_lastUpdated' }] }] }] })]).toEqual(['Condition']);
  });
});
