import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app.js';
import type { SandboxRuntime } from '../../sandbox/runtime.js';
import type { ModelStore } from '../../sandbox/model-store.js';
import { loadConfig } from '../../server/config.js';
import { migrateToLatest, openDatabase, type Database } from '../../server/db/index.js';

/**
 * Integration tests run on embedded PGlite always, and on a real PostgreSQL too when
 * TEST_DATABASE_URL is set (CI sets it and REQUIRE_POSTGRES_TESTS=1 so they cannot be skipped).
 */
export type DbTarget = 'pglite' | 'postgres';

export function dbTargets(): DbTarget[] {
  const url = process.env.TEST_DATABASE_URL;
  if (process.env.REQUIRE_POSTGRES_TESTS === '1' && !url) {
    throw new Error('REQUIRE_POSTGRES_TESTS=1 but TEST_DATABASE_URL is not set: the Postgres suites must run here.');
  }
  return url ? ['pglite', 'postgres'] : ['pglite'];
}

/** A fresh database on the test server, dropped by `dispose`. */
export async function createPgDatabase(): Promise<{ url: string; dispose: () => Promise<void> }> {
  const admin = new URL(process.env.TEST_DATABASE_URL!);
  const name = `cv_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  await client.query(`create database ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    dispose: async () => {
      const c = new pg.Client({ connectionString: admin.toString() });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/**
 * Creating a PGlite cluster (initdb) takes seconds; tests copy one migrated cluster instead,
 * built once per set of migrations and shared by every test file and run.
 */
export async function pgliteTemplate(): Promise<string> {
  const migrationsDir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../migrations');
  const hash = createHash('sha256');
  for (const f of readdirSync(migrationsDir).sort()) hash.update(f).update(readFileSync(path.join(migrationsDir, f)));
  const dir = path.join(tmpdir(), `cv-pglite-template-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(path.join(dir, 'pg', 'PG_VERSION'))) return dir;
  const building = await mkdtemp(path.join(tmpdir(), 'cv-pglite-build-'));
  const { db } = await openDatabase({ dataDir: building });
  await migrateToLatest(db);
  await db.destroy();
  await rename(building, dir).catch(async () => {
    // Another test file built it first.
    await rm(building, { recursive: true, force: true });
  });
  return dir;
}

export interface TestServer {
  target: DbTarget;
  app: FastifyInstance;
  dataDir: string;
  env: Record<string, string>;
  /** Everything the server logged, as written. */
  logs(): string;
  /** Stops the server, keeping the data (for restart tests). */
  stop(): Promise<void>;
  /** Starts a new server process state over the same data. */
  restart(): Promise<void>;
  /** Stops and deletes everything. */
  dispose(): Promise<void>;
  /** Every row of every table as text, like a logical dump. */
  dumpDatabase(): Promise<string>;
  /** Every byte under the data directory (database files, encrypted blobs, keys). */
  dumpDataDir(): Promise<Buffer>;
}

export interface StartOptions {
  /**
   * Writes an empty, unmigrated database before the server first starts (which then migrates
   * it to the latest version): how tests start from a database an older version wrote.
   */
  prepare?: (db: Database, dataDir: string) => Promise<void>;
  /** A sandbox runtime to use instead of the configured one. */
  sandboxRuntime?: SandboxRuntime;
  /** Where models are managed, instead of the runtime's own (the pull container with the stand-in's registry). */
  modelStore?: ModelStore | null;
}

export async function startTestServer(target: DbTarget, extraEnv: Record<string, string> = {}, opts: StartOptions = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'cv-test-'));
  if (target === 'pglite' && !opts.prepare) {
    await mkdir(dataDir, { recursive: true });
    await cp(path.join(await pgliteTemplate(), 'pg'), path.join(dataDir, 'pg'), { recursive: true });
  }
  const pgdb = target === 'postgres' ? await createPgDatabase() : undefined;
  if (opts.prepare) {
    const { db } = await openDatabase(pgdb ? { url: pgdb.url } : { dataDir });
    try {
      await opts.prepare(db, dataDir);
    } finally {
      await db.destroy();
    }
  }
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    RATE_LIMIT_AUTH_PER_MIN: '100000',
    SANDBOX_RUNTIME: 'none',
    ...(pgdb ? { DATABASE_URL: pgdb.url } : {}),
    ...extraEnv,
  };
  const logChunks: Buffer[] = [];
  let app!: FastifyInstance;
  const boot = async () => {
    const logStream = new PassThrough();
    logStream.on('data', (c: Buffer) => logChunks.push(c));
    app = await buildApp({
      config: loadConfig(env),
      logStream,
      ...(opts.sandboxRuntime ? { sandboxRuntime: opts.sandboxRuntime } : {}),
      ...(opts.modelStore !== undefined ? { modelStore: opts.modelStore } : {}),
    });
    await app.ready();
  };
  await boot();
  const server: TestServer = {
    target,
    get app() {
      return app;
    },
    dataDir,
    env,
    logs: () => Buffer.concat(logChunks).toString('utf8'),
    stop: async () => {
      await app.close();
    },
    restart: async () => {
      await app.close();
      await boot();
    },
    dispose: async () => {
      await app.close().catch(() => {});
      await pgdb?.dispose();
      await rm(dataDir, { recursive: true, force: true });
    },
    dumpDatabase: async () => {
      const { db } = await openDatabase(pgdb ? { url: pgdb.url } : { dataDir });
      try {
        const tables = await sql<{ table_name: string }>`
          select table_name from information_schema.tables where table_schema = 'public'`.execute(db);
        let out = '';
        for (const { table_name } of tables.rows) {
          const rows = await sql<{ r: string }>`select t::text as r from ${sql.table(table_name)} t`.execute(db);
          out += `-- ${table_name}\n${rows.rows.map((r) => r.r).join('\n')}\n`;
        }
        return out;
      } finally {
        await db.destroy();
      }
    },
    dumpDataDir: async () => {
      const parts: Buffer[] = [];
      const walk = async (dir: string) => {
        for (const e of await readdir(dir, { withFileTypes: true })) {
          const p = path.join(dir, e.name);
          if (e.isDirectory()) await walk(p);
          else if (e.isFile()) parts.push(await readFile(p));
        }
      };
      await walk(dataDir);
      return Buffer.concat(parts);
    },
  };
  return server;
}

/** A signed-in client: registers a user and keeps its cookie. */
export async function signUp(app: FastifyInstance, email = `user-${randomBytes(4).toString('hex')}@example.com`, passphrase = 'correct horse battery staple') {
  const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { email, passphrase } });
  if (res.statusCode !== 201) throw new Error(`register failed: ${res.statusCode} ${res.body}`);
  const cookie = cookieFrom(res.headers['set-cookie']);
  const body = res.json() as { user: { id: string; email: string }; recoveryKey: string };
  return { ...body, email, passphrase, cookie, headers: { cookie } };
}

export function cookieFrom(setCookie: string | string[] | undefined): string {
  const list = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  const c = list.find((s) => /^(__Host-)?cv_session=/.test(s));
  if (!c) throw new Error('no session cookie');
  return c.split(';')[0]!;
}

/** A multipart/form-data body with one file (and optional fields before it). */
export function multipart(file: { name: string; type: string; data: Buffer }, fields: Record<string, string> = {}, headers: Record<string, string> = {}) {
  const boundary = `----cvtest${randomBytes(8).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  }
  parts.push(
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: ${file.type}\r\n\r\n`),
    file.data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  return { payload: Buffer.concat(parts), headers: { ...headers, 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/**
 * A user row with random key material, for repository- and runner-level tests that need an owner
 * (foreign keys) but never unlock a vault.
 */
export async function insertBareUser(db: Database, id: string, email = `${id}@example.com`): Promise<void> {
  const b = () => randomBytes(48);
  await db
    .insertInto('users')
    .values({
      id,
      email,
      kdf_params: '{}',
      wrapped_vk_passphrase: b(),
      wrapped_vk_recovery: b(),
      inbox_public_key: b(),
      inbox_private_key_wrapped: b(),
    } as never)
    .execute();
}

/**
 * A migrated database without the app, for service- and repository-level tests: in-memory
 * PGlite, or a fresh database on the test server (dropped by `dispose`).
 */
export async function openTestDatabase(target: DbTarget): Promise<{ db: Database; dispose: () => Promise<void> }> {
  const pgdb = target === 'postgres' ? await createPgDatabase() : undefined;
  const { db } = await openDatabase(pgdb ? { url: pgdb.url } : {});
  await migrateToLatest(db);
  return {
    db,
    dispose: async () => {
      await db.destroy();
      await pgdb?.dispose();
    },
  };
}
