import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from './db/index.js';
import { databaseCopy, found } from '../test-support/server/dump-scan.js';
import { dbTargets, multipart, signUp, startTestServer, type TestServer } from '../test-support/server/harness.js';
import { populate, secrets } from '../test-support/server/privacy-scenario.js';

/**
 * SECURITY.md's "What is in clear" table is the list of clear columns: every other column must
 * be bytea and hold ciphertext or a keyed MAC. Parsed from the document itself, so the claim and
 * the schema cannot drift apart.
 */
function clearColumns(): Map<string, Set<string>> {
  const doc = readFileSync(new URL('../SECURITY.md', import.meta.url), 'utf8');
  const start = doc.indexOf('## What is in clear, and why');
  const section = doc.slice(start, doc.indexOf('\n## ', start + 1));
  const names = (cell: string) => [...cell.matchAll(/`([a-z_][a-z0-9_]*)`/g)].map((m) => m[1]!);
  const out = new Map<string, Set<string>>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 4 || !cells[1]!.startsWith('`')) continue;
    // A row naming several tables lists each one's columns in order, separated by ';'.
    const tables = names(cells[1]!);
    const lists = tables.length > 1 ? cells[2]!.split(';') : [cells[2]!];
    tables.forEach((table, i) => out.set(table, new Set([...(out.get(table) ?? []), ...names(lists[i] ?? '')])));
  }
  return out;
}

/** A record blob, an HPKE box or another ciphertext: long and not mostly printable; or a MAC / hash of a fixed size. */
function looksSealed(b: Uint8Array): boolean {
  if (b.length === 16 || b.length === 32) return true;
  if (b.length < 48) return false;
  let printable = 0;
  for (const x of b) if (x >= 0x20 && x < 0x7f) printable++;
  return printable / b.length < 0.75;
}

const UPLOAD = { name: 'Canary-Psychiatrist-Letter.md', type: 'text/markdown', text: '# Letter\nReferred for an assessment.\n' };

describe.each(dbTargets())('what a copy of the database shows after real imports (%s)', (target) => {
  let sut: TestServer;
  let headers: Record<string, string>;

  beforeAll(async () => {
    sut = await startTestServer(target);
    headers = (await signUp(sut.app)).headers;
    await populate(sut.app, headers);
    const mp = multipart({ name: UPLOAD.name, type: UPLOAD.type, data: Buffer.from(UPLOAD.text) }, {}, headers);
    const up = await sut.app.inject({ method: 'POST', url: '/api/files', headers: mp.headers, payload: mp.payload });
    expect(up.statusCode, up.body).toBe(201);
    // The health views write their own rows: sealed preferences and yearly roll-ups (series_years).
    const prefs = await sut.app.inject({ method: 'PUT', url: '/api/preferences', headers, payload: { units: { weight: 'lb', glucose: 'mmol/L' } } });
    expect(prefs.statusCode, prefs.body).toBe(200);
    const dash = await sut.app.inject({ method: 'GET', url: '/api/records/dashboard?from=2000-01-01&to=2026-12-31', headers });
    expect(dash.statusCode, dash.body).toBe(200);
    await sut.stop();
  }, 300_000);
  afterAll(async () => {
    await sut?.dispose();
  });

  it('has no column outside SECURITY.md’s clear list that is not ciphertext or a MAC', async () => {
    const clear = clearColumns();
    expect(clear.get('vault_items')?.has('kind')).toBe(true); // the table was parsed
    const { db } = await openDatabase(sut.env.DATABASE_URL ? { url: sut.env.DATABASE_URL } : { dataDir: sut.dataDir });
    try {
      const cols = await sql<{ table_name: string; column_name: string; data_type: string }>`
        select table_name, column_name, data_type from information_schema.columns
        where table_schema = 'public' order by table_name, ordinal_position`.execute(db);
      const unlisted = cols.rows.filter((c) => !clear.get(c.table_name)?.has(c.column_name));
      expect(unlisted.filter((c) => c.data_type !== 'bytea').map((c) => `${c.table_name}.${c.column_name} (${c.data_type})`)).toEqual([]);
      let checked = 0;
      const bad: string[] = [];
      for (const c of unlisted) {
        const rows = await sql<{
          v: Uint8Array;
        }>`select ${sql.ref(c.column_name)} as v from ${sql.table(c.table_name)} where ${sql.ref(c.column_name)} is not null`.execute(db);
        for (const { v } of rows.rows) {
          checked++;
          if (!looksSealed(v)) bad.push(`${c.table_name}.${c.column_name}: ${Buffer.from(v).subarray(0, 40).toString('latin1')}`);
        }
      }
      expect(bad).toEqual([]);
      expect(checked).toBeGreaterThan(1000);
      for (const table of ['series_years', 'user_preferences'] as const) {
        const n = await sql<{ n: string | number }>`select count(*) as n from ${sql.table(table)}`.execute(db);
        expect(Number(n.rows[0]!.n), `${table} has rows to check`).toBeGreaterThan(0);
      }
      // Every listed column exists: the document names no column the schema has lost.
      const present = new Set(cols.rows.map((c) => `${c.table_name}.${c.column_name}`));
      expect([...clear].flatMap(([t, cs]) => [...cs].map((c) => `${t}.${c}`)).filter((n) => !present.has(n))).toEqual([]);
    } finally {
      await db.destroy();
    }
  });

  it('shows no code, lab value, archive entry name or upload name, in the dump or the data directory', async () => {
    const s = secrets();
    expect(s.codes.length).toBeGreaterThan(40);
    // Short numeric codes (CVX 08, 140) occur by chance in any dump (timestamps, sizes): those are
    // checked in the form the server used to store them (`cvx:140`), longer ones bare as well.
    const needles = [
      ...s.typeCodes,
      ...s.codes.filter((c) => c.length >= 5),
      ...s.labValues,
      ...s.entryNames,
      UPLOAD.name,
      UPLOAD.type,
      'Referred for an assessment',
    ];
    const copy = await databaseCopy(sut);
    expect(found(copy, ['@example.com'])).toEqual(['@example.com']); // clear columns are readable in this copy
    expect(found(copy, needles)).toEqual([]);
    const dir = await sut.dumpDataDir();
    expect(found(dir, needles)).toEqual([]);
    await sut.restart();
  }, 120_000);
});
