import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from './db/index.js';
import { dbTargets, signUp, startTestServer, type TestServer } from '../test-support/server/harness.js';

const N = 400;
/** HbA1c results as labs send them: one decimal, mostly 5.0–9.9 %, many repeats. */
function observations(): Array<{ at: string; value: number; json: string }> {
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: N }, (_, i) => {
    const at = new Date(Date.UTC(2012, 0, 1) + i * 9 * 86_400_000 + (8 * 60 + (i % 600)) * 60_000).toISOString().replace('.000Z', 'Z');
    const value = Math.round((5 + rand() * 5) * 10) / 10;
    const json = JSON.stringify({
      resourceType: 'Observation',
      id: `a1c-${i}`,
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory', display: 'Laboratory' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '4548-4', display: 'Hemoglobin A1c/Hemoglobin.total in Blood' }], text: 'Hemoglobin A1c' },
      subject: { reference: 'Patient/example' },
      effectiveDateTime: at,
      valueQuantity: { value, unit: '%', system: 'http://unitsofmeasure.org', code: '%' },
    });
    return { at, value, json };
  });
}

/**
 * The attack of issue 10 on a database copy: the attacker knows (or guesses) the values of many
 * results of one code and sees their clear dates; they group the blind-index tokens by the items
 * that carry them, looking for a token that marks exactly the items of one value (which labels
 * every other item with that token). With no number tokens there is none.
 */
describe.each(dbTargets())('the blind index against a value-labelling attack (%s)', (target) => {
  let sut: TestServer;
  const obs = observations();

  beforeAll(async () => {
    sut = await startTestServer(target);
    const { headers } = await signUp(sut.app);
    const res = await sut.app.inject({
      method: 'POST',
      url: '/api/import/fhir',
      headers: { ...headers, 'content-type': 'application/fhir+ndjson' },
      payload: obs.map((o) => o.json).join('\n'),
    });
    expect(res.statusCode, res.body).toBe(202);
    const id = (res.json() as { jobId: string }).jobId;
    for (const end = Date.now() + 120_000; ; await new Promise((r) => setTimeout(r, 50))) {
      const job = (await sut.app.inject({ method: 'GET', url: `/api/jobs/${id}`, headers })).json() as { status: string; error?: string };
      if (job.status === 'done') break;
      if (job.status === 'failed' || Date.now() > end) throw new Error(`import ${job.status}: ${job.error}`);
    }
    await sut.stop();
  }, 180_000);
  afterAll(async () => {
    await sut?.dispose();
  });

  it('has no token shared by exactly the items with equal values', async () => {
    const { db } = await openDatabase(sut.env.DATABASE_URL ? { url: sut.env.DATABASE_URL } : { dataDir: sut.dataDir });
    try {
      // What the copy shows: items with their clear dates, and postings.
      const items = (await sql<{ id: string; occurred_at: Date }>`select id, occurred_at from vault_items`.execute(db)).rows;
      const postings = (await sql<{ item_id: string; token: Uint8Array }>`select item_id, token from search_terms`.execute(db)).rows;
      // The attacker's knowledge: the value of each result, matched to items by date.
      const valueAt = new Map(obs.map((o) => [new Date(o.at).getTime(), o.value]));
      const valueOf = new Map(items.map((i) => [i.id, valueAt.get(new Date(i.occurred_at).getTime())]));
      expect([...valueOf.values()].filter((v) => v !== undefined)).toHaveLength(N);

      const itemsByValue = new Map<number, Set<string>>();
      for (const [id, v] of valueOf) if (v !== undefined) itemsByValue.set(v, new Set([...(itemsByValue.get(v) ?? []), id]));
      expect(itemsByValue.size).toBeGreaterThan(30); // many values, each on several items

      const itemsByToken = new Map<string, Set<string>>();
      for (const p of postings) {
        const k = Buffer.from(p.token).toString('hex');
        if (!itemsByToken.has(k)) itemsByToken.set(k, new Set());
        itemsByToken.get(k)!.add(p.item_id);
      }
      expect(itemsByToken.size).toBeGreaterThan(0);
      const same = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((x) => b.has(x));
      const labelling = [...itemsByToken].filter(([, ids]) => [...itemsByValue.values()].some((withValue) => same(ids, withValue)));
      expect(labelling).toEqual([]);
      // Stronger: every token is on items of many values, so it narrows no item's value at all.
      const narrow = [...itemsByToken].filter(([, ids]) => new Set([...ids].map((id) => valueOf.get(id))).size < itemsByValue.size);
      expect(narrow).toEqual([]);
    } finally {
      await db.destroy();
    }
    await sut.restart();
  });
});
