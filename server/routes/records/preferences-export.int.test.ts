import { Decrypter } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../../test-support/server/harness.js';
import { untar } from '../../../test-support/server/export-archive.js';

describe.each(dbTargets())('dashboard preferences in the export (%s)', (target) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(target);
  });
  afterAll(async () => server?.dispose());

  it('exports the chosen cards, order and units and re-imports them into another account', async () => {
    const app = server.app;
    const owner = await signUp(app);
    const prefs = { cards: ['sleep', 'weight', 'steps'], hidden: ['bmi'], units: { weight: 'lb', distance: 'mi', glucose: 'mmol/L' } };
    const put = await app.inject({ method: 'PUT', url: '/api/preferences', headers: owner.headers, payload: prefs });
    expect(put.statusCode, put.body).toBe(200);

    const passphrase = 'export passphrase for preferences';
    const res = await app.inject({ method: 'POST', url: '/api/export', headers: owner.headers, payload: { passphrase } });
    expect(res.statusCode).toBe(200);
    const d = new Decrypter();
    d.addPassphrase(passphrase);
    const entries = await untar(Buffer.from(await d.decrypt(new Uint8Array(res.rawPayload))));
    const lines = entries
      .get('preferences.jsonl')!
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([prefs]);
    expect(JSON.parse(entries.get('manifest.json')!.toString()).counts).toMatchObject({ preferences: 1 });

    const other = await signUp(app);
    await app.inject({ method: 'PUT', url: '/api/preferences', headers: other.headers, payload: { units: { hba1c: 'mmol/mol' } } });
    const imp = await app.inject({
      method: 'POST',
      url: '/api/import/export',
      ...multipart({ name: 'vault.age', type: 'application/octet-stream', data: res.rawPayload }, { passphrase }, other.headers),
    });
    expect(imp.statusCode, imp.body).toBe(202);
    let job: { status: string; result?: { imported: Record<string, number> } } = { status: 'queued' };
    for (let i = 0; i < 600 && job.status !== 'done' && job.status !== 'failed'; i++) {
      if (i) await new Promise((r) => setTimeout(r, 50));
      job = (await app.inject({ method: 'GET', url: `/api/jobs/${imp.json().jobId}`, headers: other.headers })).json();
    }
    expect(job).toMatchObject({ status: 'done', result: { imported: { preferences: 1 } } });
    // Merged like a Settings change: the importing account's own unit choice stays.
    const got = (await app.inject({ method: 'GET', url: '/api/preferences', headers: other.headers })).json();
    expect(got).toEqual({ ...prefs, units: { ...prefs.units, hba1c: 'mmol/mol' } });
  }, 240_000);
});
