import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { dbTargets, insertBareUser, openTestDatabase } from '../../test-support/server/harness.js';
import type { Database } from '../db/index.js';
import { ItemsRepository } from './items.repository.js';

type Entry = Parameters<ItemsRepository['insertWithIndex']>[1][number];

// Tags are stored once per user (unique name MAC) and linked to items in the same statement that
// inserts the items. Two writers adding the same new tag at once must both end up linked to it.
describe.each(dbTargets())('ItemsRepository: tags of new items (%s)', (target) => {
  let db: Database;
  let dispose = async () => {};
  let repo: ItemsRepository;
  const userId = randomUUID();

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(target));
    await insertBareUser(db, userId);
    repo = new ItemsRepository(db);
  }, 60_000);

  afterAll(async () => {
    await dispose();
  });

  /** A new item with the given tags, each a fresh sealed row (its own id) for the same MAC. */
  function entry(tagMacs: Buffer[]): Entry {
    const now = new Date();
    return {
      row: {
        id: randomUUID(),
        user_id: userId,
        kind: 'note',
        source: 'manual',
        type_mac: null,
        occurred_at: null,
        sort_at: now,
        version: 1,
        term_count: 0,
        file_id: null,
        external_mac: null,
        ciphertext: randomBytes(64),
        created_at: now,
        updated_at: now,
      },
      terms: [],
      tags: tagMacs.map((nameMac) => ({ id: randomUUID(), nameMac, ciphertext: randomBytes(40) })),
    };
  }

  const tagCount = async (itemId: string) =>
    Number((await sql<{ n: string }>`select count(*) as n from item_tags where item_id = ${itemId}`.execute(db)).rows[0]!.n);

  it('links a tag the user already has, and one that is new', async () => {
    const known = randomBytes(32);
    await repo.insertWithIndex(userId, [entry([known])]);
    const e = entry([known, randomBytes(32)]);
    await repo.insertWithIndex(userId, [e]);
    expect(await tagCount(e.row.id)).toBe(2);
  });

  // PGlite has one connection: its transactions never overlap.
  if (target === 'postgres')
    it('links both items when two transactions add the same new tag at once', async () => {
      const mac = randomBytes(32);
      const first = entry([mac]);
      const second = entry([mac]);
      let secondDone: Promise<void> | undefined;
      await db.transaction().execute(async (trx) => {
        await repo.insertWithIndex(userId, [first], trx);
        // The second writer's tag insert now waits on the first's uncommitted row.
        secondDone = repo.insertWithIndex(userId, [second]);
        for (let i = 0; i < 200; i++) {
          const waiting = await sql<{
            n: string;
          }>`select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(db);
          if (Number(waiting.rows[0]!.n) > 0) break;
          await new Promise((r) => setTimeout(r, 10));
        }
      });
      await secondDone;
      expect(await tagCount(first.row.id)).toBe(1);
      expect(await tagCount(second.row.id)).toBe(1);
      const tags = await sql<{ n: string }>`select count(*) as n from tags where user_id = ${userId} and name_mac = ${mac}`.execute(db);
      expect(Number(tags.rows[0]!.n)).toBe(1);
    });
});
