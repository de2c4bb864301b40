import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../server/db/index.js';
import { migrations } from './index.js';

describe('0029_admin_handover on an install whose admin was already deleted', () => {
  let dir: string;
  let db: Database;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cv-m0029-'));
    ({ db } = await openDatabase({ dataDir: dir }));
  });
  afterAll(async () => {
    await db?.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('makes the oldest remaining account the admin, nobody else', async () => {
    const before = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < '0029'));
    await new Migrator({ db, provider: { getMigrations: async () => before } }).migrateToLatest();
    const user = (id: string, email: string, at: string) =>
      sql`insert into users (id, email, kdf_params, wrapped_vk_passphrase, wrapped_vk_recovery, inbox_public_key, inbox_private_key_wrapped, created_at)
          values (${id}, ${email}, '{}', '\\x00', '\\x00', '\\x00', '\\x00', ${at})`.execute(db);
    await user('00000000-0000-4000-8000-000000000003', 'stranger@example.com', '2026-03-01T00:00:00Z');
    await user('00000000-0000-4000-8000-000000000002', 'second@example.com', '2026-02-01T00:00:00Z');
    const { error } = await new Migrator({ db, provider: { getMigrations: async () => migrations } }).migrateToLatest();
    expect(error).toBeUndefined();
    const rows = await sql<{ email: string; is_admin: boolean }>`select email, is_admin from users order by email`.execute(db);
    expect(rows.rows).toEqual([
      { email: 'second@example.com', is_admin: true },
      { email: 'stranger@example.com', is_admin: false },
    ]);
  });
});
