import { describe, expect, it } from 'vitest';
import { MAX_PROVIDER_TEXT, scrubProviderText } from './provider-text.js';

const UUID = '8c1f6a2e-5d0b-4a7e-9f1a-2b3c4d5e6f70';

describe('scrubProviderText', () => {
  it('keeps UUIDs and FHIR resource ids, which name what failed and open nothing', () => {
    expect(scrubProviderText(`Patient/${UUID} not found`)).toBe(`Patient/${UUID} not found`);
    expect(scrubProviderText(`Resource id=${UUID.toUpperCase()} is gone; see urn:uuid:${UUID}`)).toBe(
      `Resource id=${UUID.toUpperCase()} is gone; see urn:uuid:${UUID}`,
    );
    expect(scrubProviderText(`Observation/${UUID}/_history/3 conflicts with ${UUID}`)).toBe(`Observation/${UUID}/_history/3 conflicts with ${UUID}`);
  });

  it('still redacts the token the request carried, even shaped like a UUID', () => {
    expect(scrubProviderText(`token ${UUID} expired`, [UUID])).toBe('token [redacted] expired');
  });

  it('still redacts long token-like runs, including ones a UUID is glued to', () => {
    const token = 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8';
    expect(scrubProviderText(`invalid access_token ${token}`)).toBe('invalid access_token [redacted]');
    expect(scrubProviderText(`key=${token}`)).toBe('[redacted]');
    // A UUID run into more token characters is not a UUID.
    expect(scrubProviderText(`x ${UUID}${UUID.replace(/-/g, '')} y`)).toBe('x [redacted] y');
    expect(scrubProviderText(`x ${UUID.replace(/-/g, '')}abcd y`)).toBe('x [redacted] y');
    // A UUID beside a token: the UUID stays, the token goes.
    expect(scrubProviderText(`x ${UUID}_${token} y`)).toBe(`x ${UUID}[redacted] y`);
    expect(scrubProviderText(`x ${token}-${UUID} y`)).toBe(`x [redacted]${UUID} y`);
  });

  it('still redacts JWTs and Bearer and Basic credentials', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';
    expect(scrubProviderText(`bad token ${jwt} for Patient/${UUID}`)).toBe(`bad token [redacted] for Patient/${UUID}`);
    expect(scrubProviderText('Authorization: Bearer abc.def')).toBe('Authorization: Bearer [redacted]');
    expect(scrubProviderText(`Authorization: Bearer ${UUID}`)).toBe('Authorization: Bearer [redacted]');
    expect(scrubProviderText('authorization: basic dXNlcjpwYXNz')).toBe('authorization: basic [redacted]');
  });

  it('turns control characters into spaces and caps the length', () => {
    expect(scrubProviderText('a\r\nb\tc')).toBe('a b c');
    const long = scrubProviderText('word '.repeat(100));
    expect(long).toHaveLength(MAX_PROVIDER_TEXT);
    expect(long.endsWith('…')).toBe(true);
  });
});
