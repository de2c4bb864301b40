import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateTo, openDatabase, type Database } from '../db/index.js';
import { databaseCopy, found } from '../../test-support/server/dump-scan.js';
import { cookieFrom, dbTargets, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { parseProm, sample } from '../../test-support/server/prom.js';
import { snapshot } from '../../test-support/server/privacy-scenario.js';
import pino from 'pino';
import { ImportFiles } from '../jobs/encrypted-file.js';
import { JobRunner, type JobContext } from '../jobs/runner.js';
import { AuditRepository } from '../repositories/audit.repository.js';
import { ItemsRepository } from '../repositories/items.repository.js';
import { JobsRepository } from '../repositories/jobs.repository.js';
import { SeriesRepository } from '../repositories/series.repository.js';
import { SessionsRepository } from '../repositories/sessions.repository.js';
import { UsersRepository } from '../repositories/users.repository.js';
import { VaultUpgradeRepository } from '../repositories/vault-upgrade.repository.js';
import { AuthService } from './auth.service.js';
import { ItemsService } from './items.service.js';
import { SeriesService } from './series.service.js';
import { UPGRADE_JOB, VaultUpgradeService } from './vault-upgrade.service.js';
import path from 'node:path';

// Written by the server before migration 0011 (see fixtures/vault-v1/build.ts); the owner's credentials are these.
const FIXTURE = new URL('../test/fixtures/vault-v1/', import.meta.url);
const EMAIL = 'v1-owner@example.com';
const PASSPHRASE = 'an old vault passphrase, long enough';
type Snapshot = Awaited<ReturnType<typeof snapshot>>;
const expected = JSON.parse(readFileSync(new URL('expected.json', FIXTURE), 'utf8')) as Snapshot;

/** The old schema (through 0006) with the old server's rows in it, as a backup would restore them. */
async function restoreV1(db: Database, dataDir: string): Promise<void> {
  execFileSync('tar', ['-xzf', fileURLToPath(new URL('files.tar.gz', FIXTURE)), '-C', dataDir]);
  await migrateTo(db, '0006_postings_fk');
  const byTable = new Map<string, unknown[]>();
  for (const line of gunzipSync(readFileSync(new URL('rows.jsonl.gz', FIXTURE)))
    .toString('utf8')
    .split('\n')) {
    if (!line) continue;
    const { t, r } = JSON.parse(line) as { t: string; r: unknown };
    if (!byTable.has(t)) byTable.set(t, []);
    byTable.get(t)!.push(r);
  }
  for (const [t, rows] of byTable) {
    for (let i = 0; i < rows.length; i += 500) {
      await sql`insert into ${sql.table(t)} select * from json_populate_recordset(null::${sql.table(t)}, ${JSON.stringify(rows.slice(i, i + 500))}::json)`.execute(
        db,
      );
    }
  }
}

/**
 * The item shape gained `version` and `folderId` after the fixture was written (0013, history and
 * folders) and `extraction` (how a file was read: derived from the text for rows older than it),
 * and exports gained `folders.jsonl` and `preferences.jsonl`: compare what the fixture knew. `version` also moves when the
 * upgrade re-seals a row.
 */
const withoutLaterFields = <T>(item: T): T => {
  const { version: _v, folderId: _f, extraction: _e, ...rest } = item as Record<string, unknown>;
  return rest as T;
};
const comparableExport = (exp: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(exp)
      .filter(([name]) => name !== 'folders.jsonl' && name !== 'preferences.jsonl')
      .map(([name, body]) => {
        if (name === 'items.jsonl' && Array.isArray(body)) return [name, body.map(withoutLaterFields)];
        // Files are listed in id order since exports hold only the files their items use; the
        // fixture's were in name order. The order means nothing to a restore.
        if (name === 'files.jsonl' && Array.isArray(body))
          return [name, [...(body as Array<{ id: string; name: string }>)].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id))];
        if (name === 'manifest.json' && body && typeof body === 'object') {
          const { includesTrash: _t, counts, ...manifest } = body as { includesTrash?: boolean; counts?: Record<string, number> };
          const { folders: _f, preferences: _p, ...sections } = counts ?? {};
          return [name, { ...manifest, counts: sections }];
        }
        return [name, body];
      }),
  );
/** Search ranks shift a little once number tokens leave the index (documents get shorter): compare what is found. */
const comparable = (s: Snapshot) => ({
  ...s,
  items: (s.items as unknown[]).map(withoutLaterFields),
  export: comparableExport(s.export as Record<string, unknown>),
  search: Object.fromEntries(Object.entries(s.search).map(([q, ids]) => [q, [...(ids as string[])].sort()])),
});

describe.each(dbTargets())('a vault written before 0011 is upgraded when its owner unlocks (%s)', (target) => {
  let sut: TestServer;
  let headers: Record<string, string>;

  beforeAll(async () => {
    sut = await startTestServer(target, {}, { prepare: restoreV1 });
  }, 120_000);
  afterAll(async () => {
    await sut?.dispose();
  });

  const jobs = async () =>
    (await sut.app.inject({ method: 'GET', url: '/api/jobs?limit=100', headers })).json().jobs as Array<{
      kind: string;
      status: string;
      progress: { done: number; total?: number; unit: string };
      result?: { imported: Record<string, number> };
    }>;

  it('reads the old rows as before while the upgrade runs, then stores no type code, job outcome or clear code', async () => {
    const login = await sut.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: EMAIL, passphrase: PASSPHRASE } });
    expect(login.statusCode, login.body).toBe(200);
    headers = { cookie: cookieFrom(login.headers['set-cookie']) };

    // The first signed-in request starts the upgrade; these reads run alongside it.
    expect(comparable(await snapshot(sut.app, headers))).toEqual(comparable(expected));

    let upgrade: Awaited<ReturnType<typeof jobs>>[number] | undefined;
    for (const end = Date.now() + 60_000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
      upgrade = (await jobs()).find((j) => j.kind === 'vault_upgrade');
      if (upgrade?.status === 'done' || upgrade?.status === 'failed') break;
    }
    expect(upgrade?.status).toBe('done');
    expect(upgrade!.progress).toEqual({ done: expected.items.length, total: expected.items.length, unit: 'records' });
    expect(upgrade!.result?.imported['items upgraded']).toBe(expected.items.length);
    // The unlock-time migration is a job kind on /metrics (issue 20).
    const metrics = parseProm((await sut.app.inject({ method: 'GET', url: '/metrics' })).body);
    expect(sample(metrics, 'cv_jobs_total', { kind: 'vault_upgrade', outcome: 'done' })).toBe(1);
    expect(sample(metrics, 'cv_job_records_total', { kind: 'vault_upgrade' })).toBeGreaterThanOrEqual(expected.items.length);

    // The same answers from the upgraded rows, and after a restart (nothing held in memory).
    expect(comparable(await snapshot(sut.app, headers))).toEqual(comparable(expected));
    await sut.restart();
    expect(comparable(await snapshot(sut.app, headers))).toEqual(comparable(expected));
    expect((await jobs()).filter((j) => j.kind === 'vault_upgrade')).toHaveLength(1);

    await sut.stop();
    const copy = await databaseCopy(sut);
    expect(found(copy, [EMAIL])).toEqual([EMAIL]); // the copy is readable where it is clear
    const typeCodes = Object.keys(expected.byType);
    const countedTypes = expected.jobs.flatMap((j) => Object.keys(j.result?.imported ?? {}));
    expect(typeCodes.length).toBeGreaterThan(40);
    expect(found(copy, [...typeCodes.filter((t) => t.length >= 5), ...countedTypes.filter((t) => t.length >= 5)])).toEqual([]);
    expect(
      found(
        copy,
        expected.jobs.flatMap((j) => (j.error ? [j.error] : [])),
      ),
    ).toEqual([]);
    await sut.restart();
  }, 240_000);

  it('leaves nothing in the legacy columns and marks the vault upgraded', async () => {
    await sut.stop();
    const { db: raw } = await openDatabase(sut.env.DATABASE_URL ? { url: sut.env.DATABASE_URL } : { dataDir: sut.dataDir });
    try {
      const one = async (q: ReturnType<typeof sql<{ n: string | number }>>) => Number((await q.execute(raw)).rows[0]!.n);
      expect(await one(sql`select count(*) as n from vault_items where legacy_type is not null or type_mac is null`)).toBe(0);
      expect(await one(sql`select count(*) as n from series_chunks where legacy_type is not null or type_mac is null`)).toBe(0);
      expect(await one(sql`select count(*) as n from jobs where legacy_result is not null or legacy_error is not null`)).toBe(0);
      expect(await one(sql`select count(*) as n from users where vault_format <> 3`)).toBe(0);
      expect(await one(sql`select count(*) as n from series_types`)).toBeGreaterThan(5);
    } finally {
      await raw.destroy();
    }
    await sut.restart();
  }, 60_000);
});

describe.each(dbTargets())('an interrupted vault upgrade (%s)', (target) => {
  let sut: TestServer;
  let db: Database;

  beforeAll(async () => {
    // Migrated to the latest schema by the server's start, then read here directly.
    sut = await startTestServer(target, {}, { prepare: restoreV1 });
    await sut.stop();
    db = (await openDatabase(sut.env.DATABASE_URL ? { url: sut.env.DATABASE_URL } : { dataDir: sut.dataDir })).db;
  }, 120_000);
  afterAll(async () => {
    await db?.destroy();
    await sut?.dispose();
  });

  const ownerSession = async () =>
    (await new AuthService(new UsersRepository(db), new SessionsRepository(db), new AuditRepository(db), { sessionTtlMs: 3_600_000 }).login(EMAIL, PASSPHRASE))
      .session.context;
  const runnerOn = (jobs: JobsRepository) =>
    new JobRunner(jobs, ImportFiles.onDisk(path.join(sut.dataDir, 'imports')), pino({ level: 'silent' }), {
      maxConcurrent: 1,
      perUser: 1,
      progressMs: 500,
      maxAttempts: 3,
      resumeWithinMs: 3_600_000,
    });

  it('reads every item and series the same with some rows upgraded and others not, then resumes where it stopped', async () => {
    const session = await ownerSession();
    const items = new ItemsService(new ItemsRepository(db));
    const series = new SeriesService(new SeriesRepository(db));
    const jobs = new JobsRepository(db);
    const runner = runnerOn(jobs);
    const sut2 = new VaultUpgradeService(new VaultUpgradeRepository(db), jobs, runner, items, series, pino({ level: 'silent' }), { batch: 20 });
    const pending = async () => Number((await sql<{ n: string }>`select count(*) as n from vault_items where type_mac is null`.execute(db)).rows[0]!.n);

    const read = async () => {
      const all = await items.list(session, { limit: 100 });
      const byType: Record<string, string[]> = {};
      for (const t of Object.keys(expected.byType)) byType[t] = (await items.list(session, { type: t, limit: 100 })).items.map((i) => i.id);
      const days: Record<string, unknown> = {};
      for (const t of Object.keys(expected.series)) days[t] = await series.days(session, { type: t });
      return { items: all.items.map(({ updatedAt: _u, ...i }) => withoutLaterFields(i)).sort((a, b) => (a.id < b.id ? -1 : 1)), byType, days };
    };
    const want = { items: expected.items, byType: expected.byType, days: expected.series };

    // Stop after the second batch, as a shutdown would.
    const abort = new AbortController();
    let batches = 0;
    const ctx = (signal: AbortSignal) =>
      ({ session, signal, progress: () => (++batches === 3 ? abort.abort(new Error('shutdown')) : undefined), count: () => {} }) as unknown as JobContext;
    await expect(sut2.run(ctx(abort.signal))).rejects.toThrow('shutdown');
    expect(await pending()).toBe(expected.items.length - 40);
    expect(await read()).toEqual(want);

    await sut2.run(ctx(new AbortController().signal));
    expect(await pending()).toBe(0);
    expect(await read()).toEqual(want);
  }, 120_000);

  it('starts no second upgrade when a request reads the format just before the running one finishes', async () => {
    const session = await ownerSession();
    const jobs = new JobsRepository(db);
    const runner = runnerOn(jobs);
    await sql`update users set vault_format = 1`.execute(db);
    const running = randomUUID();
    await jobs.insert({
      id: running,
      userId: session.userId,
      kind: UPGRADE_JOB,
      progress: { done: 0, total: 1, unit: 'records' },
      inputRef: null,
      inputFormat: null,
    });
    // The upgrade in flight finishes (marks the vault, then stops being active) right after this request reads the format.
    const repo = new VaultUpgradeRepository(db);
    const format = repo.format.bind(repo);
    repo.format = async (userId) => {
      const read = await format(userId);
      await repo.markUpgraded(userId);
      await sql`update jobs set status = 'done' where id = ${running}`.execute(db);
      return read;
    };
    const service = new VaultUpgradeService(
      repo,
      jobs,
      runner,
      new ItemsService(new ItemsRepository(db)),
      new SeriesService(new SeriesRepository(db)),
      pino({ level: 'silent' }),
    );
    await service.ensure(session);
    const upgrades = await sql<{ n: string | number }>`select count(*) as n from jobs where user_id = ${session.userId} and kind = ${UPGRADE_JOB}`.execute(db);
    expect(Number(upgrades.rows[0]!.n)).toBe(1);
  }, 60_000);
});
