import { describe, expect, it } from 'vitest';
import { assertSafeEndpoint } from './endpoint-guard.js';

const resolveTo =
  (...ips: string[]) =>
  async () =>
    ips;

describe('assertSafeEndpoint', () => {
  it.each([
    ['https://169.254.169.254/latest/meta-data/', 'link-local'],
    ['https://[fe80::1]/token', 'link-local'],
    ['https://10.1.2.3/token', 'private'],
    ['https://192.168.0.10/token', 'private'],
    ['https://[::ffff:10.0.0.1]/token', 'private'],
    ['https://[fd00:ec2::254]/token', 'private'],
    ['https://metadata.google.internal/token', 'metadata'],
  ])('refuses %s', async (url, word) => {
    await expect(assertSafeEndpoint(url, { allowHttpLoopback: true })).rejects.toThrow(new RegExp(word));
  });

  it('refuses a name that resolves to any private address, and plain http', async () => {
    await expect(assertSafeEndpoint('https://fhir.example.org/R4', { resolve: resolveTo('93.184.215.14', '10.0.0.5') })).rejects.toThrow(/private/);
    await expect(assertSafeEndpoint('http://fhir.example.org/R4', { resolve: resolveTo('93.184.215.14') })).rejects.toThrow(/https/);
    await expect(assertSafeEndpoint('https://user:pw@fhir.example.org/R4', { resolve: resolveTo('93.184.215.14') })).rejects.toThrow(/credentials/);
  });

  it('allows public https, and http loopback only when told to', async () => {
    await expect(assertSafeEndpoint('https://fhir.example.org/R4', { resolve: resolveTo('93.184.215.14') })).resolves.toBeInstanceOf(URL);
    await expect(assertSafeEndpoint('http://127.0.0.1:8080/x')).rejects.toThrow();
    await expect(assertSafeEndpoint('https://127.0.0.1:8080/x')).rejects.toThrow(/this machine/);
    await expect(assertSafeEndpoint('http://127.0.0.1:8080/x', { allowHttpLoopback: true })).resolves.toBeInstanceOf(URL);
  });
});
