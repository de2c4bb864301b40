import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe.each(dbTargets())('token scopes on routes that answer with vault content (%s)', (target) => {
  let sut: TestServer;

  beforeAll(async () => {
    sut = await startTestServer(target);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  it('refuses export and the patient summary to a write-only token, and serves them to a read token', async () => {
    const user = await signUp(sut.app);
    const note = await sut.app.inject({ method: 'POST', url: '/api/items', headers: user.headers, payload: { title: 'secret', text: 'very private note' } });
    expect(note.statusCode).toBe(201);
    const mint = async (scopes: string[]) => {
      const r = await sut.app.inject({ method: 'POST', url: '/api/tokens', headers: user.headers, payload: { name: scopes.join('+'), scopes } });
      expect(r.statusCode, r.body).toBe(201);
      return r.json().token as string;
    };
    const writer = await mint(['write']);
    const reader = await mint(['read']);
    const exportBody = { passphrase: 'a passphrase the token holder chose' };
    const summaryBody = { sections: ['problems'], format: 'fhir' };

    for (const [url, payload] of [
      ['/api/export', exportBody],
      ['/api/summary', summaryBody],
    ] as const) {
      const denied = await sut.app.inject({ method: 'POST', url, headers: bearer(writer), payload });
      expect(denied.statusCode, `${url}: ${denied.body.slice(0, 200)}`).toBe(403);
      expect(denied.json().error.code).toBe('insufficient_scope');
      expect(denied.json().error.message).toContain('"read"');
    }

    const exported = await sut.app.inject({ method: 'POST', url: '/api/export', headers: bearer(reader), payload: exportBody });
    expect(exported.statusCode, exported.body.slice(0, 200)).toBe(200);
    expect(exported.headers['content-type']).toBe('application/octet-stream');
    expect(exported.rawPayload.subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    const summary = await sut.app.inject({ method: 'POST', url: '/api/summary', headers: bearer(reader), payload: summaryBody });
    expect(summary.statusCode, summary.body.slice(0, 200)).toBe(200);
    expect(summary.json().resourceType).toBe('Bundle');
  });
});
