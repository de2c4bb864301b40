/**
 * The unlock-time vault upgrade (migration 0011): items/s re-sealed, blinded and re-indexed for a
 * vault of BENCH_UPGRADE_ITEMS (100k) health records, against writing the same items new through
 * ItemsService.createMany in the same run (the import path: seal, index, insert). The upgrade
 * does a little more per item (read, open, seal, rewrite postings), so a ratio near 1 means a
 * 100k-record vault is upgraded in about the time it took to import it.
 *
 * Embedded PGlite by default; BENCH_DATABASE_URL=postgres://… (an empty database) for pg.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { sql } from 'kysely';
import { migrateToLatest, openDatabase } from '../server/db/index.js';
import { ImportFiles } from '../server/jobs/encrypted-file.js';
import { JobRunner, type JobContext } from '../server/jobs/runner.js';
import { AuditRepository } from '../server/repositories/audit.repository.js';
import { ItemsRepository } from '../server/repositories/items.repository.js';
import { JobsRepository } from '../server/repositories/jobs.repository.js';
import { SeriesRepository } from '../server/repositories/series.repository.js';
import { SessionsRepository } from '../server/repositories/sessions.repository.js';
import { UsersRepository } from '../server/repositories/users.repository.js';
import { VaultUpgradeRepository } from '../server/repositories/vault-upgrade.repository.js';
import { AuthService } from '../server/services/auth.service.js';
import { ItemsService, type NewItem } from '../server/services/items.service.js';
import { SeriesService } from '../server/services/series.service.js';
import { VaultUpgradeService } from '../server/services/vault-upgrade.service.js';
import type { BenchResult } from './types.js';

const N = Number(process.env.BENCH_UPGRADE_ITEMS ?? 100_000);
const CODES = [
  '4548-4',
  '718-7',
  '2345-7',
  '8480-6',
  '8462-4',
  'snomed:44054006',
  'snomed:38341003',
  'rxnorm:860975',
  'rxnorm:314076',
  'cvx:140',
  'HKCategoryTypeIdentifierMenstrualFlow',
  'HKQuantityTypeIdentifierBodyMass',
];

function records(from: number, n: number): NewItem[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    const at = new Date(Date.UTC(2010, 0, 1) + i * 3_600_000);
    const type = CODES[i % CODES.length]!;
    return {
      kind: 'record',
      source: 'fhir',
      type,
      title: `Hemoglobin A1c ${(5 + (i % 50) / 10).toFixed(1)} %`,
      text: `Observation on ${at.toUTCString().slice(5, 22)}: Hemoglobin A1c/Hemoglobin.total in Blood ${(5 + (i % 50) / 10).toFixed(1)} %. Final, laboratory. LOINC 4548-4.`,
      tags: ['labs', 'fhir'],
      occurredAt: at.toISOString(),
      external: { id: `Observation/bench-${i}`, version: '1' },
    };
  });
}

export default async function run(): Promise<BenchResult[]> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'cv-bench-upgrade-'));
  const url = process.env.BENCH_DATABASE_URL;
  const { db } = await openDatabase(url ? { url } : { dataDir });
  try {
    await migrateToLatest(db);
    const auth = new AuthService(new UsersRepository(db), new SessionsRepository(db), new AuditRepository(db), { sessionTtlMs: 3_600_000 });
    const session = (await auth.register(`upgrade-${Date.now()}@example.com`, 'a long bench passphrase')).session.context;
    const items = new ItemsService(new ItemsRepository(db));

    // Baseline: importing the vault in the first place.
    const t0 = performance.now();
    for (let i = 0; i < N; i += 1000) await items.createMany(session, records(i, Math.min(1000, N - i)));
    const createRate = N / ((performance.now() - t0) / 1000);

    // The same rows as a server before 0011 left them: clear code, no MAC, owner not upgraded;
    // with planner statistics, as a vault that has sat in that state has (and the server
    // refreshes them at start-up).
    await sql`update vault_items set legacy_type = 'x', type_mac = null where user_id = ${session.userId}`.execute(db);
    await sql`update users set vault_format = 1 where id = ${session.userId}`.execute(db);
    await sql`analyze vault_items, search_terms`.execute(db);

    const jobs = new JobsRepository(db);
    const runner = new JobRunner(jobs, ImportFiles.onDisk(path.join(dataDir, 'imports')), pino({ level: 'silent' }), {
      maxConcurrent: 1,
      perUser: 1,
      progressMs: 500,
      maxAttempts: 3,
      resumeWithinMs: 3_600_000,
    });
    const sut = new VaultUpgradeService(
      new VaultUpgradeRepository(db),
      jobs,
      runner,
      items,
      new SeriesService(new SeriesRepository(db)),
      pino({ level: 'silent' }),
    );
    let upgraded = 0;
    const ctx = {
      session,
      signal: new AbortController().signal,
      progress: () => {},
      count: (type: string, n: number) => {
        if (type === 'items upgraded') upgraded = n;
      },
    } as unknown as JobContext;
    const t1 = performance.now();
    await sut.run(ctx);
    const upgradeRate = N / ((performance.now() - t1) / 1000);
    if (upgraded !== N) throw new Error(`upgraded ${upgraded} of ${N}`);

    const where = url ? 'postgres' : 'pglite';
    return [
      {
        name: `vault upgrade at unlock, ${N} items (${where})`,
        value: upgradeRate,
        unit: 'items/s',
        baseline: { name: 'createMany of the same items', value: createRate },
        ratio: upgradeRate / createRate,
        target: 'ratio >= 0.5',
        pass: upgradeRate / createRate >= 0.5,
      },
    ];
  } finally {
    await db.destroy();
    await rm(dataDir, { recursive: true, force: true });
  }
}
