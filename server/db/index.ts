import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Kysely, Migrator, type LogEvent, type MigrationProvider } from 'kysely';
import { PGlite, types } from '@electric-sql/pglite';
import pg from 'pg';
import { migrations } from '../../migrations/index.js';
import { networkFailure } from '../network-error.js';
import { lockDataDir } from './data-dir-lock.js';
import { PGliteDialect } from './pglite-dialect.js';
import { namedStatementClient, StatementNames } from './pg-named-statements.js';
import { PointReadDialect } from './pg-point-reads.js';
import { readPointsDirectly } from './point-reads.js';
import { guardPglite } from './pglite-guard.js';
import type { DB } from './types.js';

export type Database = Kysely<DB>;

export interface DbOptions {
  /** A postgres:// URL; absent = embedded PGlite. */
  url?: string;
  /** Where PGlite keeps its files; absent with no url = in memory (tests). */
  dataDir?: string;
  poolMax?: number;
  /** Told about errors of idle pooled connections (database restart, admin termination). */
  onIdleError?: (err: Error) => void;
  /** Embedded PGlite only: told once when its WebAssembly aborted (the instance is then dead). */
  onFatal?: (err: Error) => void;
  /** Embedded PGlite only: checkpoint once this much WAL was written since the last one (default 64). */
  checkpointEveryMb?: number;
  /** Embedded PGlite only: how often that is measured (default 1000 ms). */
  checkpointCheckMs?: number;
  /** Told about every query after it ran (metrics and spans by statement family). */
  log?: (event: LogEvent) => void;
  /** Embedded PGlite in a dataDir: who holds its directory, named to anyone refused (default `server`). */
  lockHolder?: string;
}

/** Connections of the pool now (PGlite: its one connection and the queries queued for it). */
export interface PoolStats {
  size: number;
  inUse: number;
  waiting: number;
}

/** Kysely over pg when a URL is given, else over embedded PGlite. Same migrations on both. */
export async function openDatabase(opts: DbOptions): Promise<{ db: Database; dialect: 'pg' | 'pglite'; poolStats: () => PoolStats }> {
  if (opts.url) {
    const Client = namedStatementClient(new StatementNames());
    const pool = new pg.Pool({ connectionString: opts.url, max: opts.poolMax ?? 10, Client });
    // Point reads (an item by id) share one more, pipelined connection: see pg-point-reads.ts.
    const dialect = new PointReadDialect(
      { pool },
      () => new Client({ connectionString: opts.url, pipeline: true }),
      (err) => opts.onIdleError?.(err),
    );
    // node-postgres emits an idle client's error on the pool, and an unhandled 'error' event
    // would crash the process; the pool drops that client and the next query reconnects.
    pool.on('error', (err) => opts.onIdleError?.(err));
    const db = new Kysely<DB>({ dialect, ...(opts.log ? { log: opts.log } : {}) });
    readPointsDirectly(db, dialect.readNow, opts.log);
    return { db, dialect: 'pg', poolStats: () => ({ size: pool.options.max ?? 10, inUse: pool.totalCount - pool.idleCount, waiting: pool.waitingCount }) };
  }
  const pgDir = opts.dataDir ? path.join(opts.dataDir, 'pg') : undefined;
  // One process at a time (see data-dir-lock.ts): held until this PGlite closes, or the process exits.
  const lock = opts.dataDir ? lockDataDir(opts.dataDir, opts.lockHolder) : undefined;
  let pglite: PGlite;
  try {
    if (pgDir && !existsSync(path.join(pgDir, 'PG_VERSION'))) initPgliteInChild(pgDir);
    pglite = new PGlite(pgDir, { postgresqlconf: PGLITE_CONF, parsers: PGLITE_PARSERS, serializers: PGLITE_SERIALIZERS });
    await pglite.waitReady;
  } catch (err) {
    lock?.release();
    throw err;
  }
  if (lock) {
    const close = pglite.close.bind(pglite);
    pglite.close = async () => {
      try {
        await close();
      } finally {
        lock.release();
      }
    };
  }
  guardPglite(pglite, {
    checkpointEveryBytes: (opts.checkpointEveryMb ?? 64) * 1024 * 1024,
    checkIntervalMs: opts.checkpointCheckMs ?? 1000,
    onFatal: opts.onFatal,
  });
  const dialect = new PGliteDialect({ pglite });
  const db = new Kysely<DB>({ dialect, ...(opts.log ? { log: opts.log } : {}) });
  readPointsDirectly(db, dialect.readNow, opts.log);
  return { db, dialect: 'pglite', poolStats: () => dialect.stats() };
}

/**
 * Sized for one person's vault on a laptop: PGlite's defaults (160 MB of shared buffers inside
 * the server's own process) would dominate its memory. The WAL sizes bound how many old segments
 * a checkpoint keeps for reuse (PGlite has no checkpointer: see pglite-guard.ts).
 */
export const PGLITE_CONF = [
  'shared_buffers=32MB',
  'wal_buffers=1MB',
  'maintenance_work_mem=16MB',
  'temp_buffers=4MB',
  'min_wal_size=32MB',
  'max_wal_size=64MB',
  // PGlite's pages are in its own buffers or the OS page cache, never behind a seek: with the
  // default (4, for spinning disks) a small vault's item by id was a sequential scan of every row
  // (and a file-size check in JavaScript per read) instead of a primary-key lookup.
  'random_page_cost=1.1',
];

/**
 * PGlite's own bytea codecs go byte by byte through `parseInt`/`padStart` (~0.1 us a byte): the
 * ciphertext of every item read and the packed postings of every import crossed them. Node's
 * hex codec does the same text format (`\x` + hex) natively. Buffers are Uint8Arrays, which is
 * what pg hands back too. Prepared statements read bytea as binary instead (pglite-wire.ts), also
 * as Buffers.
 */
export const PGLITE_PARSERS = {
  [types.BYTEA]: (x: string) => Buffer.from(x.slice(2), 'hex'),
  // PGlite reads timestamps with `new Date(text)`, whose legacy parser takes `0050-06-01 00:00:00+00`
  // for 1950 (a cursor past such a row then pointed back at it, forever); node-postgres's parsers
  // read every year as written, so both databases hand back the same instants.
  [types.TIMESTAMP]: pg.types.getTypeParser(pg.types.builtins.TIMESTAMP, 'text'),
  [types.TIMESTAMPTZ]: pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ, 'text'),
};
const PGLITE_SERIALIZERS = {
  [types.BYTEA]: (x: Uint8Array) => {
    if (!(x instanceof Uint8Array)) throw new TypeError('Invalid input for bytea type');
    return `\\x${asBuffer(x).toString('hex')}`;
  },
};

/**
 * Creating a PGlite cluster runs initdb in WebAssembly, whose ~550 MB heap stays resident in the
 * process that ran it. Doing it once in a short-lived child keeps the server's own memory small.
 */
function initPgliteInChild(dir: string): void {
  const entry = import.meta.resolve('@electric-sql/pglite');
  const code = `const { PGlite } = await import(${JSON.stringify(entry)});
    const db = new PGlite(${JSON.stringify(dir)}, { postgresqlconf: ${JSON.stringify(PGLITE_CONF)} });
    await db.waitReady; await db.close();`;
  execFileSync(process.execPath, ['--input-type=module', '-e', code], { stdio: 'inherit' });
}

const provider: MigrationProvider = { getMigrations: async () => migrations };

/**
 * Runs every pending migration; throws with the failing migration's name, or, when the database
 * could not be reached at all, with a line naming DATABASE_URL (never its value: it may hold a
 * password).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the migrator works on any schema
export async function migrateToLatest(db: Kysely<any>): Promise<void> {
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const cause = !failed ? connectFailure(error) : undefined;
    if (cause) throw new Error(`DATABASE_URL: cannot connect to the database (${cause})`);
    throw new Error(`Migration ${failed ?? 'unknown'} failed: ${(error as Error).message ?? String(error)}`);
  }
}

/** Network errors of a connection that never opened. */
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOENT', 'EACCES']);

/**
 * Why a connection failed, when the error is one (else undefined): a network error's code and
 * address (`ECONNREFUSED 127.0.0.1:5999`), PostgreSQL's refusal (SQLSTATE classes 08
 * connection, 28 authorization, 3D000 unknown database, 57P03 starting up) with its message, or
 * an SSL mismatch. None of these quotes the password.
 */
function connectFailure(error: unknown): string | undefined {
  const network = networkFailure(error, CONNECT_CODES);
  if (network) return network;
  type E = Error & { code?: string; errors?: unknown[] };
  const e = error as E;
  if (!e || typeof e !== 'object') return undefined;
  const code = e.code ?? (Array.isArray(e.errors) ? (e.errors[0] as E | undefined)?.code : undefined);
  if (typeof code === 'string' && (/^(08|28)/.test(code) || code === '3D000' || code === '57P03')) return `${code} ${e.message}`;
  // TLS: a certificate that does not verify (its code and Node's sentence, no URL).
  if (typeof code === 'string' && /CERT|^ERR_TLS|^ERR_SSL/.test(code)) return `${code} ${e.message}`;
  // node-postgres's own, before any SQLSTATE: sslmode=require against a server without SSL.
  if (/\bSSL\b/.test(e.message ?? '')) return e.message;
  if (/Connection terminated|timeout expired/i.test(e.message ?? '')) return e.message;
  return undefined;
}

/** Runs migrations up to and including `name` (tests that start from an older schema). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run on an untyped handle, like migrateToLatest
export async function migrateTo(db: Kysely<any>, name: string): Promise<void> {
  const { error } = await new Migrator({ db, provider }).migrateTo(name);
  if (error) throw new Error(`Migration to ${name} failed: ${(error as Error).message ?? String(error)}`);
}

/** pg hands back Buffer, PGlite Uint8Array: crypto wants Buffer views. */
export const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
