import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { migrateToLatest, openDatabase } from './index.js';
import { closedPort } from '../../test-support/server/cli.js';

const PASSWORD = 'ZQdbPassCanary77';

describe('DATABASE_URL that cannot be reached', () => {
  it('stops the start-up with a line naming DATABASE_URL and the cause, not a migration, never the password', async () => {
    const port = await closedPort();
    const dataDir = await mkdtemp(path.join(tmpdir(), 'cv-test-dburl-'));
    const logs = new PassThrough();
    logs.resume();
    try {
      const config = loadConfig({
        DATABASE_URL: `postgres://cv:${PASSWORD}@127.0.0.1:${port}/cv`,
        DATA_DIR: dataDir,
        SANDBOX_RUNTIME: 'none',
        LOG_LEVEL: 'error',
      });
      const err = await buildApp({ config, logStream: logs }).then(
        async (a) => {
          await a.close();
          return undefined;
        },
        (e: Error) => e,
      );
      expect(err?.message).toBe(`DATABASE_URL: cannot connect to the database (ECONNREFUSED 127.0.0.1:${port})`);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  const admin = process.env.TEST_DATABASE_URL;
  if (admin)
    it('an unknown database on a server that answers: its SQLSTATE and PostgreSQL’s sentence', async () => {
      const url = new URL(admin);
      url.pathname = '/cv_no_such_db_zq';
      url.password = PASSWORD;
      const { db } = await openDatabase({ url: url.toString() });
      try {
        const err = (await migrateToLatest(db).catch((e: unknown) => e)) as Error;
        expect(err.message).toBe('DATABASE_URL: cannot connect to the database (3D000 database "cv_no_such_db_zq" does not exist)');
        expect(err.message).not.toContain(PASSWORD);
      } finally {
        await db.destroy();
      }
    });
});

describe('a migration that fails', () => {
  it('is still named as the migration that failed', async () => {
    // A database where the first migration cannot run: its table already exists as something else.
    const { db } = await openDatabase({});
    try {
      const first = (await import('../../migrations/index.js')).migrations;
      const name = Object.keys(first).sort()[0]!;
      await sql`create schema if not exists public`.execute(db);
      await sql`create table users (broken int)`.execute(db);
      const err = (await migrateToLatest(db).catch((e: unknown) => e)) as Error;
      expect(err.message).toMatch(new RegExp(`^Migration ${name} failed: `));
    } finally {
      await db.destroy();
    }
  });
});
