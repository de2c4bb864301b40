import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EpicError, FhirClient } from './fhir-client.js';

const TOKEN = 'epic-access-SECRET-0123456789abcdefghijklmnopqrstuvwxyz';
const tokens = { get: async () => TOKEN, refresh: async () => TOKEN };

/** A FHIR server on a real socket that answers each request with the next of `answers`. */
async function serve(answers: Array<(req: IncomingMessage, res: ServerResponse) => void>): Promise<{ base: string; requests: number; server: Server }> {
  const state = { base: '', requests: 0, server: undefined as unknown as Server };
  state.server = createServer((req, res) => {
    const answer = answers[Math.min(state.requests, answers.length - 1)]!;
    state.requests += 1;
    answer(req, res);
  });
  await new Promise<void>((r) => state.server.listen(0, '127.0.0.1', r));
  state.base = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}/fhir/R4`;
  return state;
}
const json =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/fhir+json', ...headers });
    res.end(JSON.stringify(body));
  };
const throttled = (retryAfter: string) => json(429, { resourceType: 'OperationOutcome', issue: [] }, { 'retry-after': retryAfter });
const patient = json(200, { resourceType: 'Patient', id: 'p1' });

let open: Server | undefined;
/** Closes the server now: fetch keeps its connection alive, which close() alone would wait for. */
async function close(server: Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
}
afterEach(async () => {
  await close(open);
  open = undefined;
});

describe('FhirClient against a rate-limiting server', () => {
  it('waits as long as Retry-After asks when that is within its cap', async () => {
    const s = await serve([throttled('2'), patient]);
    open = s.server;
    const waits: number[] = [];
    const client = new FhirClient(s.base, tokens, { sleep: async (ms) => void waits.push(ms) });
    expect(await client.get('Patient/p1')).toMatchObject({ id: 'p1' });
    expect(waits).toEqual([2000]);
  });

  it('does not retry sooner than a longer Retry-After (seconds or a date): fails at once with when to try again', async () => {
    const at = new Date(Math.ceil((Date.now() + 600_000) / 1000) * 1000);
    for (const [retryAfter, waitMs] of [
      ['120', 120_000],
      [at.toUTCString(), at.getTime() - Date.now()],
    ] as const) {
      const s = await serve([throttled(retryAfter), patient]);
      open = s.server;
      const waits: number[] = [];
      const asked = Date.now();
      const client = new FhirClient(s.base, tokens, { sleep: async (ms) => void waits.push(ms) });
      const err = (await client.get('Patient/p1').catch((e: unknown) => e)) as EpicError;
      expect(err, retryAfter).toBeInstanceOf(EpicError);
      expect(err.code).toBe('rate_limited');
      expect(waits, retryAfter).toEqual([]);
      expect(s.requests).toBe(1);
      expect(err.retryAt!.getTime(), retryAfter).toBeGreaterThanOrEqual(asked + waitMs - 1000);
      expect(err.retryAt!.getTime(), retryAfter).toBeLessThanOrEqual(Date.now() + waitMs + 1000);
      await close(s.server);
      open = undefined;
    }
  });

  it('keeps the bearer token and other credentials out of an error text the server echoes, and caps it', async () => {
    const echo = (req: IncomingMessage, res: ServerResponse) =>
      json(500, {
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', diagnostics: `Backend failure for ${req.url} with Authorization: ${req.headers.authorization} ${'x'.repeat(500)}` }],
      })(req, res);
    const s = await serve([echo]);
    open = s.server;
    const err = (await new FhirClient(s.base, tokens).get('Patient/p1').catch((e: unknown) => e)) as EpicError;
    expect(err.code).toBe('server');
    expect(err.message).toMatch(/Backend failure/);
    expect(err.message).not.toContain(TOKEN);
    expect(err.message).not.toContain('SECRET');
    expect(err.message.length).toBeLessThan(300);
  });
});
