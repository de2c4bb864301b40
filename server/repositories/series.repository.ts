import { sql } from 'kysely';
import type { Database } from '../db/index.js';

export interface ChunkRow {
  type: string;
  date: string;
  version: number;
  ciphertext: Uint8Array;
}

/** A chunk's sealed stats; the chunk itself only where it has none (written before 0005). */
export interface StatsRow {
  type: string;
  date: string;
  version: number;
  stats: Uint8Array | null;
  ciphertext: Uint8Array | null;
}

export type ChunkWrite = { type: string; date: string; version: number; ciphertext: Uint8Array; stats: Uint8Array };

export class SeriesRepository {
  constructor(private readonly db: Database) {}

  /**
   * Loads the given (type, date) chunks, merges them with `merge` and writes the results back,
   * in one transaction with the rows locked, so two writers cannot lose each other's samples.
   */
  async mergeInto(
    userId: string,
    keys: Array<{ type: string; date: string }>,
    merge: (existing: ChunkRow[]) => ChunkWrite[],
  ): Promise<void> {
    if (keys.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      const wanted = sql.join(keys.map((k) => sql`(${k.type}, ${k.date}::date)`));
      const existing = await sql<ChunkRow>`
        select type, to_char(date, 'YYYY-MM-DD') as date, version, ciphertext
        from series_chunks
        where user_id = ${userId} and (type, date) in (${wanted})
        for update`.execute(trx);
      const rows = merge(existing.rows);
      if (rows.length === 0) return;
      await sql`
        insert into series_chunks (user_id, type, date, version, ciphertext, stats)
        values ${sql.join(rows.map((r) => sql`(${userId}::uuid, ${r.type}, ${r.date}::date, ${r.version}, ${r.ciphertext}::bytea, ${r.stats}::bytea)`))}
        on conflict (user_id, type, date) do update
          set version = excluded.version, ciphertext = excluded.ciphertext, stats = excluded.stats, updated_at = now()`.execute(trx);
    });
  }

  async range(userId: string, type: string, from: string | undefined, to: string | undefined): Promise<ChunkRow[]> {
    const r = await sql<ChunkRow>`
      select type, to_char(date, 'YYYY-MM-DD') as date, version, ciphertext
      from series_chunks
      where user_id = ${userId} and type = ${type}
        ${from ? sql`and date >= ${from}::date` : sql``}
        ${to ? sql`and date <= ${to}::date` : sql``}
      order by date`.execute(this.db);
    return r.rows;
  }

  /** Sealed daily stats of one type between two dates, for summaries that need no samples. */
  async stats(userId: string, type: string, from: string | undefined, to: string | undefined): Promise<StatsRow[]> {
    const r = await sql<StatsRow>`
      select type, to_char(date, 'YYYY-MM-DD') as date, version, stats,
        case when stats is null then ciphertext end as ciphertext
      from series_chunks
      where user_id = ${userId} and type = ${type}
        ${from ? sql`and date >= ${from}::date` : sql``}
        ${to ? sql`and date <= ${to}::date` : sql``}
      order by date`.execute(this.db);
    return r.rows;
  }

  /** First and last stored day and the number of days, per type, for the given types. */
  async coverage(userId: string, types: string[]): Promise<Array<{ type: string; first: string; last: string; days: number }>> {
    if (types.length === 0) return [];
    const r = await sql<{ type: string; first: string; last: string; days: string | number }>`
      select type, to_char(min(date), 'YYYY-MM-DD') as first, to_char(max(date), 'YYYY-MM-DD') as last, count(*) as days
      from series_chunks
      where user_id = ${userId} and type in (${sql.join(types)})
      group by type`.execute(this.db);
    return r.rows.map((x) => ({ ...x, days: Number(x.days) }));
  }

  /** Stores stats for chunks written before they had any; a chunk rewritten since keeps its own. */
  async backfillStats(userId: string, type: string, rows: Array<{ date: string; version: number; stats: Uint8Array }>): Promise<void> {
    if (rows.length === 0) return;
    await sql`
      update series_chunks c set stats = v.stats
      from (values ${sql.join(rows.map((r) => sql`(${r.date}::date, ${r.version}::int, ${r.stats}::bytea)`))}) as v(date, version, stats)
      where c.user_id = ${userId} and c.type = ${type} and c.date = v.date and c.version = v.version and c.stats is null`.execute(this.db);
  }
}
