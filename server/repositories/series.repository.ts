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
      // Series writes and roll-up builds of one user take turns (see buildMonths).
      await sql`select 1 from users where id = ${userId} for update`.execute(trx);
      // The keys travel as two arrays: a row-constructor IN list of a few hundred pairs is
      // planned as a deep OR tree, which overflows embedded PGlite's WASM stack (an import of
      // ~200 days of several series aborted the database).
      const existing = await sql<ChunkRow>`
        select c.type, to_char(c.date, 'YYYY-MM-DD') as date, c.version, c.ciphertext
        from series_chunks c
        join unnest(${keys.map((k) => k.type)}::text[], ${keys.map((k) => k.date)}::date[]) as k(type, date)
          on c.type = k.type and c.date = k.date
        where c.user_id = ${userId}
        for update of c`.execute(trx);
      const rows = merge(existing.rows);
      if (rows.length === 0) return;
      // Years whose days change lose their roll-up (0014); the next read rebuilds it.
      await sql`
        delete from series_years y
        using unnest(${rows.map((r) => r.type)}::text[], ${rows.map((r) => Number(r.date.slice(0, 4)))}::int[]) as k(type, year)
        where y.user_id = ${userId} and y.type = k.type and y.year = k.year`.execute(trx);
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

  /** Sealed roll-ups of one type for the years between two (inclusive). */
  async years(userId: string, type: string, from: number, to: number): Promise<Array<{ year: number; stats: Uint8Array }>> {
    const r = await sql<{ year: number; stats: Uint8Array }>`
      select year, stats from series_years
      where user_id = ${userId} and type = ${type} and year >= ${from} and year <= ${to}
      order by year`.execute(this.db);
    return r.rows.map((x) => ({ year: Number(x.year), stats: x.stats }));
  }

  /**
   * Reads the daily stats of one type between two days and stores the yearly roll-ups `build`
   * makes of them, in one transaction holding the user's row in share mode: a series write
   * (mergeInto, which takes it for update) cannot slip in between the read and the insert and
   * leave a roll-up of days that no longer are.
   */
  async buildYears(
    userId: string,
    type: string,
    from: string,
    to: string,
    build: (rows: StatsRow[]) => Array<{ year: number; stats: Uint8Array }>,
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await sql`select 1 from users where id = ${userId} for share`.execute(trx);
      const r = await sql<StatsRow>`
        select type, to_char(date, 'YYYY-MM-DD') as date, version, stats,
          case when stats is null then ciphertext end as ciphertext
        from series_chunks
        where user_id = ${userId} and type = ${type} and date >= ${from}::date and date <= ${to}::date
        order by date`.execute(trx);
      const rows = build(r.rows);
      if (rows.length === 0) return;
      await sql`
        insert into series_years (user_id, type, year, stats)
        values ${sql.join(rows.map((x) => sql`(${userId}::uuid, ${type}, ${x.year}::int, ${x.stats}::bytea)`))}
        on conflict (user_id, type, year) do update set stats = excluded.stats`.execute(trx);
    });
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
