import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/index.js';
import type { DB } from '../db/types.js';
import type { TypeLookup } from './items.repository.js';

export interface ChunkRow {
  type_mac: Uint8Array;
  date: string;
  version: number;
  ciphertext: Uint8Array;
}

/** A chunk's sealed stats; the chunk itself only where it has none (written before 0005). */
export interface StatsRow {
  date: string;
  version: number;
  stats: Uint8Array | null;
  ciphertext: Uint8Array | null;
}

export type ChunkWrite = { typeMac: Uint8Array; date: string; version: number; ciphertext: Uint8Array; stats: Uint8Array };

/** A type as stored: its MAC, the readable code (for rows from before 0011) and its sealed name for `series_types`. */
export interface SeriesTypeWrite extends TypeLookup {
  sealedName: Uint8Array;
}

/** One stored type: its MAC and sealed name, or the clear code of rows not yet upgraded; its first and last day. */
export interface SpanRow {
  type_mac: Uint8Array | null;
  legacy_type: string | null;
  name_version: number | null;
  name: Uint8Array | null;
  first: string;
  last: string;
  days: number;
}

const matches = (t: TypeLookup) => sql`(type_mac = ${t.mac}::bytea or (legacy_type is not null and legacy_type = ${t.code}))`;

export class SeriesRepository {
  constructor(private readonly db: Database) {}

  /**
   * Loads the given (type, date) chunks, merges them with `merge` and writes the results back,
   * in one transaction with the rows locked, so two writers cannot lose each other's samples.
   * The types' rows from before 0011 are moved to their MACs first (no decryption needed).
   */
  async mergeInto(
    userId: string,
    types: SeriesTypeWrite[],
    keys: Array<{ typeMac: Uint8Array; date: string }>,
    merge: (existing: ChunkRow[]) => ChunkWrite[],
  ): Promise<void> {
    if (keys.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      // Series writes and roll-up builds of one user take turns (see buildYears).
      await sql`select 1 from users where id = ${userId} for update`.execute(trx);
      await this.#registerTypes(userId, types, trx);
      // Two arrays, not a list of row constructors: PGlite aborts ("bad buffer ID") on an
      // `in (...)` of a few hundred (type, date) pairs, which one FHIR batch can hold.
      const existing = await sql<ChunkRow>`
        select c.type_mac, to_char(c.date, 'YYYY-MM-DD') as date, c.version, c.ciphertext
        from series_chunks c
        join unnest(${keys.map((k) => k.typeMac)}::bytea[], ${keys.map((k) => k.date)}::date[]) as w(type_mac, date)
          on c.type_mac = w.type_mac and c.date = w.date
        where c.user_id = ${userId}
        for update of c`.execute(trx);
      const rows = merge(existing.rows);
      if (rows.length === 0) return;
      // Years whose days change lose their roll-up (0014); the next read rebuilds it.
      await sql`
        delete from series_years y
        using unnest(${rows.map((r) => r.typeMac)}::bytea[], ${rows.map((r) => Number(r.date.slice(0, 4)))}::int[]) as k(type_mac, year)
        where y.user_id = ${userId} and y.type_mac = k.type_mac and y.year = k.year`.execute(trx);
      await sql`
        insert into series_chunks (user_id, type_mac, date, version, ciphertext, stats)
        values ${sql.join(rows.map((r) => sql`(${userId}::uuid, ${r.typeMac}::bytea, ${r.date}::date, ${r.version}, ${r.ciphertext}::bytea, ${r.stats}::bytea)`))}
        on conflict (user_id, type_mac, date) do update
          set version = excluded.version, ciphertext = excluded.ciphertext, stats = excluded.stats, updated_at = now()`.execute(trx);
    });
  }

  /** Records each type's sealed name and moves its rows from before 0011 onto its MAC. */
  async registerTypes(userId: string, types: SeriesTypeWrite[]): Promise<void> {
    await this.db.transaction().execute((trx) => this.#registerTypes(userId, types, trx));
  }

  async #registerTypes(userId: string, types: SeriesTypeWrite[], trx: Transaction<DB>): Promise<void> {
    if (types.length === 0) return;
    await sql`
      insert into series_types (user_id, type_mac, ciphertext)
      values ${sql.join(types.map((t) => sql`(${userId}::uuid, ${t.mac}::bytea, ${t.sealedName}::bytea)`))}
      on conflict (user_id, type_mac) do nothing`.execute(trx);
    for (const t of types) {
      await sql`
        update series_chunks set type_mac = ${t.mac}::bytea, legacy_type = null
        where user_id = ${userId} and legacy_type is not null and legacy_type = ${t.code}`.execute(trx);
    }
  }

  /** Clear type codes of rows from before 0011 (what the vault upgrade still has to move). */
  async legacyTypes(userId: string): Promise<string[]> {
    const r = await sql<{ legacy_type: string }>`
      select distinct legacy_type from series_chunks where user_id = ${userId} and legacy_type is not null`.execute(this.db);
    return r.rows.map((x) => x.legacy_type);
  }

  async range(userId: string, type: TypeLookup, from: string | undefined, to: string | undefined): Promise<Array<Omit<ChunkRow, 'type_mac'>>> {
    const r = await sql<Omit<ChunkRow, 'type_mac'>>`
      select to_char(date, 'YYYY-MM-DD') as date, version, ciphertext
      from series_chunks
      where user_id = ${userId} and ${matches(type)}
        ${from ? sql`and date >= ${from}::date` : sql``}
        ${to ? sql`and date <= ${to}::date` : sql``}
      order by date`.execute(this.db);
    return r.rows;
  }

  /** Sealed daily stats of one type between two dates, for summaries that need no samples. */
  async stats(userId: string, type: TypeLookup, from: string | undefined, to: string | undefined): Promise<StatsRow[]> {
    const r = await sql<StatsRow>`
      select to_char(date, 'YYYY-MM-DD') as date, version, stats,
        case when stats is null then ciphertext end as ciphertext
      from series_chunks
      where user_id = ${userId} and ${matches(type)}
        ${from ? sql`and date >= ${from}::date` : sql``}
        ${to ? sql`and date <= ${to}::date` : sql``}
      order by date`.execute(this.db);
    return r.rows;
  }

  /** Sealed roll-ups of one type for the years between two (inclusive). */
  async years(userId: string, type: TypeLookup, from: number, to: number): Promise<Array<{ year: number; stats: Uint8Array }>> {
    const r = await sql<{ year: number; stats: Uint8Array }>`
      select year, stats from series_years
      where user_id = ${userId} and type_mac = ${type.mac}::bytea and year >= ${from} and year <= ${to}
      order by year`.execute(this.db);
    return r.rows.map((x) => ({ year: Number(x.year), stats: x.stats }));
  }

  /**
   * Reads the daily stats of one type between two days and stores the yearly roll-ups `build`
   * makes of them, in one transaction holding the user's row in share mode: a series write
   * (mergeInto, which takes it for update) cannot slip in between the read and the insert and
   * leave a roll-up of days that no longer are. Rows not yet moved onto the type's MAC count too.
   */
  async buildYears(
    userId: string,
    type: TypeLookup,
    from: string,
    to: string,
    build: (rows: StatsRow[]) => Array<{ year: number; stats: Uint8Array }>,
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await sql`select 1 from users where id = ${userId} for share`.execute(trx);
      const r = await sql<StatsRow>`
        select to_char(date, 'YYYY-MM-DD') as date, version, stats,
          case when stats is null then ciphertext end as ciphertext
        from series_chunks
        where user_id = ${userId} and ${matches(type)} and date >= ${from}::date and date <= ${to}::date
        order by date`.execute(trx);
      const rows = build(r.rows);
      if (rows.length === 0) return;
      await sql`
        insert into series_years (user_id, type_mac, year, stats)
        values ${sql.join(rows.map((x) => sql`(${userId}::uuid, ${type.mac}::bytea, ${x.year}::int, ${x.stats}::bytea)`))}
        on conflict (user_id, type_mac, year) do update set stats = excluded.stats`.execute(trx);
    });
  }

  /**
   * First and last stored day and the number of days of the given types: one row per MAC, and
   * per clear code for rows from before 0011 (the caller maps both back to its codes).
   */
  async coverage(
    userId: string,
    types: TypeLookup[],
  ): Promise<Array<{ type_mac: Uint8Array | null; legacy_type: string | null; first: string; last: string; days: number }>> {
    if (types.length === 0) return [];
    const r = await sql<{ type_mac: Uint8Array | null; legacy_type: string | null; first: string; last: string; days: string | number }>`
      select type_mac, legacy_type, to_char(min(date), 'YYYY-MM-DD') as first, to_char(max(date), 'YYYY-MM-DD') as last, count(*) as days
      from series_chunks
      where user_id = ${userId}
        and (type_mac = any(${types.map((t) => t.mac)}::bytea[]) or (legacy_type is not null and legacy_type = any(${types.map((t) => t.code)}::text[])))
      group by type_mac, legacy_type`.execute(this.db);
    return r.rows.map((x) => ({ ...x, days: Number(x.days) }));
  }

  /** Stores stats for chunks written before they had any; a chunk rewritten since keeps its own. */
  async backfillStats(userId: string, type: TypeLookup, rows: Array<{ date: string; version: number; stats: Uint8Array }>): Promise<void> {
    if (rows.length === 0) return;
    await sql`
      update series_chunks c set stats = v.stats
      from (values ${sql.join(rows.map((r) => sql`(${r.date}::date, ${r.version}::int, ${r.stats}::bytea)`))}) as v(date, version, stats)
      where c.user_id = ${userId} and (c.type_mac = ${type.mac}::bytea or (c.legacy_type is not null and c.legacy_type = ${type.code}))
        and c.date = v.date and c.version = v.version and c.stats is null`.execute(this.db);
  }

  /** Each stored type with its first and last day and its sealed name, so chunks can be read a month at a time. */
  async spans(userId: string): Promise<SpanRow[]> {
    const r = await sql<SpanRow & { days: string | number }>`
      select c.type_mac, c.legacy_type, t.version as name_version, t.ciphertext as name,
        to_char(min(c.date), 'YYYY-MM-DD') as first, to_char(max(c.date), 'YYYY-MM-DD') as last, count(*) as days
      from series_chunks c
      left join series_types t on t.user_id = c.user_id and t.type_mac = c.type_mac
      where c.user_id = ${userId}
      group by c.type_mac, c.legacy_type, t.version, t.ciphertext`.execute(this.db);
    return r.rows.map((x) => ({ ...x, days: Number(x.days) }));
  }
}
