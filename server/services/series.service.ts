import { ChunkMerger } from '../../integrations/series/chunk-merge.js';
import { computeStats, decodeChunk, encodeChunk, mergeChunks, type DayChunk, type DayStats } from '../../integrations/series/day-chunk.js';
import { canonicalUnit, convertStats, convertValue, hasUnit, SAME_UNIT, unitConversion, type UnitConversion } from '../../integrations/series/units.js';
import type { QuantitySample } from '../../integrations/types.js';
import * as codec from '../codec/index.js';
import type { MonthStats } from '../codec/index.js';
import type { SealedChunk } from '../codec/series.js';
import { asBuffer } from '../db/index.js';
import type { TypeLookup } from '../repositories/items.repository.js';
import type { ChunkRow, ChunkWrite, SeriesRepository, SeriesTypeWrite } from '../repositories/series.repository.js';
import type { KeyRing, SessionContext } from './keyring.js';
import { analyteFactor } from './health/lab-units.js';

export interface SeriesDay extends DayStats {
  date: string;
}

/**
 * What one store call added: new samples per type (duplicates of stored samples are not counted),
 * and under {@link SAMPLES_LEFT_OUT} the samples of days that could not join their stored day.
 */
export type AddedCounts = Record<string, number>;

/** Counts keyed by the sources' type names, which may be "constructor" or "__proto__": no prototype. */
const noCounts = (): AddedCounts => Object.create(null) as AddedCounts;

/** The job result's key for samples an import could not use (imports.service.ts counts under it too). */
export const SAMPLES_LEFT_OUT = 'samples left out (unit or value not usable)';

type Keys = Pick<SessionContext, 'userId' | 'keys'>;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** Days stored per transaction by `storeSealed`, and their bytes as sealed (see there). */
const MERGE_DAYS = 32;
const MERGE_BYTES = 4 * 1024 * 1024;

/**
 * Health time series stored as one encrypted chunk per (user, type, local day); the row holds
 * the type's keyed MAC, never the code. Imports hand in chunks; each is merged with the stored
 * one (exact duplicate samples kept once), re-encrypted under a bumped version and written back.
 */
export class SeriesService {
  constructor(private readonly repo: SeriesRepository) {}

  /** A readable type as the repository looks it up. */
  lookup(keys: KeyRing, type: string): TypeLookup {
    return { mac: codec.seriesChunk.blindType(keys, type), code: type };
  }

  #typeWrites(session: Keys, types: Iterable<string>): SeriesTypeWrite[] {
    return [...new Set(types)].map((type) => {
      const mac = codec.seriesChunk.blindType(session.keys, type);
      return { mac, code: type, sealedName: codec.seriesType.seal(session.keys, { userId: session.userId, id: hex(mac), version: 1 }, type) };
    });
  }

  #openStats(keys: KeyRing, userId: string, type: string, row: { date: string; version: number; stats: Uint8Array }): { unit: string; stats: DayStats } {
    return codec.seriesStats.open(keys, { userId, type, date: row.date, version: row.version }, asBuffer(row.stats));
  }

  #plain(keys: KeyRing, userId: string, type: string, row: { date: string; version: number; ciphertext: Uint8Array }): Buffer {
    return codec.seriesChunk.open(keys, { userId, type, date: row.date, version: row.version }, asBuffer(row.ciphertext));
  }

  /** Decrypts one stored chunk of a known type. */
  open(keys: KeyRing, userId: string, type: string, row: { date: string; version: number; ciphertext: Uint8Array }): DayChunk {
    return decodeChunk(this.#plain(keys, userId, type, row));
  }

  /** Merges chunks into storage in one transaction; returns the samples that were new, per type. */
  async store(session: Keys, chunks: DayChunk[]): Promise<AddedCounts> {
    const { userId } = session;
    const byKey = new Map<string, DayChunk>();
    for (const c of chunks) {
      // A type code with '|' could not be bound unambiguously by the AAD; no source writes one.
      if (c.type.includes('|') || c.samples.length === 0) continue;
      const k = `${c.type}\u0000${c.date}`;
      const prev = byKey.get(k);
      byKey.set(k, prev ? (tryMerge(prev, c) ?? prev) : c);
    }
    const types = this.#typeWrites(
      session,
      [...byKey.values()].map((c) => c.type),
    );
    const macOf = new Map(types.map((t) => [t.code, t.mac]));
    const typeOf = new Map(types.map((t) => [hex(t.mac), t.code]));
    const added = noCounts();
    await this.repo.mergeInto(
      userId,
      types,
      [...byKey.values()].map((c) => ({ typeMac: macOf.get(c.type)!, date: c.date })),
      (existing) => {
        const stored = new Map(existing.map((r) => [`${typeOf.get(hex(r.type_mac))}\u0000${r.date}`, r]));
        const merger = new ChunkMerger();
        const out: ChunkWrite[] = [];
        for (const [k, incoming] of byKey) {
          const row = stored.get(k);
          const mac = macOf.get(incoming.type)!;
          const write = row
            ? this.#mergedWrite(session, merger, mac, row, incoming, encodeChunk(incoming), added)
            : this.#newWrite(session, mac, incoming, added);
          if (write) out.push(write);
        }
        return out;
      },
    );
    return added;
  }

  #newWrite({ keys, userId }: Keys, typeMac: Uint8Array, chunk: DayChunk, added: AddedCounts): ChunkWrite {
    added[chunk.type] = (added[chunk.type] ?? 0) + chunk.samples.length;
    return {
      typeMac,
      date: chunk.date,
      version: 1,
      ciphertext: codec.seriesChunk.seal(keys, userId, chunk, 1),
      stats: codec.seriesStats.seal(keys, userId, chunk, 1),
    };
  }

  /**
   * The stored row merged with `incoming` (encoded) under a bumped version; none when nothing is
   * new, or when the units do not convert (its samples are then counted under SAMPLES_LEFT_OUT:
   * an import must not say it kept what it dropped). Merged as columns, never as a tuple per
   * sample: see integrations/series/chunk-merge.ts.
   */
  #mergedWrite(
    { keys, userId }: Keys,
    merger: ChunkMerger,
    typeMac: Uint8Array,
    row: ChunkRow,
    at: Pick<DayChunk, 'type' | 'date'>,
    incoming: Uint8Array,
    added: AddedCounts,
  ): ChunkWrite | undefined {
    const stored = this.#plain(keys, userId, at.type, row);
    const merged = merger.merge(stored, incoming);
    if (!merged) {
      // Told apart from "nothing new" only here, off the common path: one header read each.
      const was = readHeader(stored);
      const came = readHeader(asBuffer(incoming));
      if (!unitConversion(came.unit, was.unit, at.type)) added[SAMPLES_LEFT_OUT] = (added[SAMPLES_LEFT_OUT] ?? 0) + came.stats.count;
      return undefined;
    }
    const version = row.version + 1;
    added[at.type] = (added[at.type] ?? 0) + merged.added;
    return {
      typeMac,
      date: at.date,
      version,
      ciphertext: codec.seriesChunk.sealEncoded(keys, userId, at, version, merged.encoded),
      stats: codec.seriesStats.seal(keys, userId, merged.meta, version),
    };
  }

  /**
   * Stores chunks sealed elsewhere as new rows (version 1; see codec/series.ts), which is all an
   * import into empty days needs: no decrypting, merging or sealing on this thread (only the
   * types' MACs are computed here). A chunk whose day is already stored is opened and merged
   * into it; one that repeats a day within the batch is merged after the rest of the batch is
   * stored. Returns the samples that were new, per type.
   */
  async storeSealed(session: Keys, sealed: SealedChunk[]): Promise<AddedCounts> {
    const added = noCounts();
    const fresh = new Map<string, SealedChunk>();
    const repeats: SealedChunk[] = [];
    for (const c of sealed) {
      if (c.type.includes('|') || c.count === 0) continue;
      const k = `${c.type}\u0000${c.date}`;
      if (fresh.has(k)) repeats.push(c);
      else fresh.set(k, c);
    }
    // Days already stored are read, opened, merged and sealed again here, and the stored and the
    // merged ciphertexts are held until their transaction commits: MERGE_DAYS and MERGE_BYTES
    // per transaction bound that, whatever the batch holds (1 MiB of small chunks, say a chest
    // strap's workouts, can be hundreds of days that each return to a full day of watch
    // readings). The merge itself holds one day at a time (chunk-merge.ts).
    const merger = new ChunkMerger();
    let part = new Map<string, SealedChunk>();
    let bytes = 0;
    for (const [k, c] of fresh) {
      part.set(k, c);
      bytes += c.ciphertext.length + c.stats.length;
      if (part.size >= MERGE_DAYS || bytes >= MERGE_BYTES) {
        await this.#storeFresh(session, merger, part, added);
        part = new Map();
        bytes = 0;
      }
    }
    if (part.size) await this.#storeFresh(session, merger, part, added);
    // Now stored, their days take the repeats as any returning day (a third one comes next round).
    if (repeats.length) {
      for (const [type, n] of Object.entries(await this.storeSealed(session, repeats))) added[type] = (added[type] ?? 0) + n;
    }
    return added;
  }

  async #storeFresh(session: Keys, merger: ChunkMerger, fresh: Map<string, SealedChunk>, added: AddedCounts): Promise<void> {
    const { userId, keys } = session;
    const types = this.#typeWrites(
      session,
      [...fresh.values()].map((c) => c.type),
    );
    const macOf = new Map(types.map((t) => [t.code, t.mac]));
    const typeOf = new Map(types.map((t) => [hex(t.mac), t.code]));
    await this.repo.mergeInto(
      userId,
      types,
      [...fresh.values()].map((c) => ({ typeMac: macOf.get(c.type)!, date: c.date })),
      (existing) => {
        const stored = new Map(existing.map((r) => [`${typeOf.get(hex(r.type_mac))}\u0000${r.date}`, r]));
        const out: ChunkWrite[] = [];
        for (const [k, c] of fresh) {
          const row = stored.get(k);
          const mac = macOf.get(c.type)!;
          if (row) {
            const incoming = this.#plain(keys, userId, c.type, { date: c.date, version: 1, ciphertext: c.ciphertext });
            const write = this.#mergedWrite(session, merger, mac, row, c, incoming, added);
            if (write) out.push(write);
            continue;
          }
          added[c.type] = (added[c.type] ?? 0) + c.count;
          out.push({ typeMac: mac, date: c.date, version: 1, ciphertext: c.ciphertext, stats: c.stats });
        }
        return out;
      },
    );
  }

  /** Every stored type (readable, from its sealed name) with its first and last day and day count. */
  async spans(session: SessionContext): Promise<Array<{ type: string; first: string; last: string; days: number }>> {
    const out = new Map<string, { type: string; first: string; last: string; days: number }>();
    for (const r of await this.repo.spans(session.userId)) {
      let type = r.legacy_type;
      if (r.type_mac) {
        if (!r.name) throw new Error('a series type has no stored name');
        type = codec.seriesType.open(session.keys, { userId: session.userId, id: hex(r.type_mac), version: r.name_version ?? 1 }, asBuffer(r.name));
      }
      const prev = out.get(type!);
      // Mid-upgrade, one type can have rows under its MAC and rows still under its clear code.
      out.set(
        type!,
        prev
          ? { type: type!, first: min(prev.first, r.first), last: max(prev.last, r.last), days: prev.days + r.days }
          : { type: type!, first: r.first, last: r.last, days: r.days },
      );
    }
    return [...out.values()].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  }

  /** Decrypted chunks of one type between two local dates (both inclusive), in date order. */
  async chunks(session: SessionContext, type: string, from: string, to: string): Promise<DayChunk[]> {
    const rows = await this.repo.range(session.userId, this.lookup(session.keys, type), from, to);
    return rows.map((row) => this.open(session.keys, session.userId, type, row));
  }

  /** The vault upgrade: moves every series row from before 0011 onto its type's MAC. */
  async upgrade(session: Keys): Promise<number> {
    const legacy = await this.repo.legacyTypes(session.userId);
    await this.repo.registerTypes(session.userId, this.#typeWrites(session, legacy));
    return legacy.length;
  }

  /**
   * Monthly statistics for one type between two local dates (both inclusive): whole months from
   * their sealed roll-ups (built from the daily stats when missing, see series_years), the
   * partial months at either end from the daily stats. Months in another unit are converted to
   * the first month's, as `days` does.
   */
  async months(
    session: SessionContext,
    q: { type: string; from: string; to: string },
  ): Promise<{ type: string; unit: string | null; months: Array<MonthStats & { month: string }> }> {
    const { keys, userId } = session;
    const type = this.lookup(keys, q.type);
    const monthOf = (d: string) => `${d.slice(0, 7)}-01`;
    const endOf = (m: string) => addMonths(m, 1, 0);
    const nextMonth = (m: string) => addMonths(m, 1);
    const out = new Map<string, MonthStats>();
    const fromDays = async (from: string, to: string) => {
      const r = await this.days(session, { type: q.type, from, to });
      for (const [m, st] of rollMonths(r.days, r.unit ?? '')) out.set(m, st);
    };
    const firstFull = q.from.endsWith('-01') ? q.from : nextMonth(monthOf(q.from));
    const lastFull = endOf(monthOf(q.to)) === q.to ? monthOf(q.to) : addMonths(monthOf(q.to), -1);
    if (firstFull > lastFull) await fromDays(q.from, q.to);
    else {
      if (firstFull !== q.from) await fromDays(q.from, endOf(monthOf(q.from)));
      if (lastFull !== monthOf(q.to)) await fromDays(monthOf(q.to), q.to);
      const y0 = Number(firstFull.slice(0, 4));
      const y1 = Number(lastFull.slice(0, 4));
      const inRange = (m: string) => m >= firstFull && m <= lastFull;
      const have = new Map((await this.repo.years(userId, type, y0, y1)).map((r) => [r.year, r.stats]));
      const missing: number[] = [];
      for (let y = y0; y <= y1; y++) {
        const sealed = have.get(y);
        if (!sealed) missing.push(y);
        else for (const [m, st] of Object.entries(codec.seriesYear.open(keys, userId, q.type, y, asBuffer(sealed)))) if (inRange(m)) out.set(m, st);
      }
      // Years outside the stored days have nothing to roll up: a range of centuries reads no more than the data's own years.
      const stored = missing.length ? await this.repo.coverage(userId, [type]) : [];
      const firstYear = Math.min(...stored.map((c) => Number(c.first.slice(0, 4))));
      const lastYear = Math.max(...stored.map((c) => Number(c.last.slice(0, 4))));
      for (const missingYear of missing.filter((y) => y >= firstYear && y <= lastYear)) {
        const year = String(missingYear).padStart(4, '0');
        await this.repo.buildYears(userId, type, `${year}-01-01`, `${year}-12-31`, (rows) => {
          const stored = rows.map((row) => {
            const h = row.stats
              ? this.#openStats(keys, userId, q.type, { ...row, stats: row.stats })
              : readHeader(this.#plain(keys, userId, q.type, { ...row, ciphertext: row.ciphertext! }));
            return { unit: h.unit, stats: { date: row.date, ...h.stats } };
          });
          const { unit, kept: days } = inOneUnit(q.type, stored);
          const byYear = new Map<number, Record<string, MonthStats>>();
          for (const [m, st] of rollMonths(days, unit ?? '')) {
            if (inRange(m)) out.set(m, st);
            const y = Number(m.slice(0, 4));
            byYear.set(y, { ...byYear.get(y), [m]: st });
          }
          // Years without data get no roll-up: finding none again costs one empty range read.
          return [...byYear].map(([year, months]) => ({ year, stats: codec.seriesYear.seal(keys, userId, q.type, year, months) }));
        });
      }
    }
    const { unit, kept } = inOneUnit(
      q.type,
      [...out].sort((a, b) => a[0].localeCompare(b[0])).map(([month, st]) => ({ unit: st.unit, stats: { month, ...st } })),
    );
    return { type: q.type, unit, months: kept.map((m) => ({ ...m, unit: unit! })) };
  }

  /** Which of the given types (readable codes) have stored days, with their first and last day. */
  async coverage(session: Keys, types: string[]): Promise<Array<{ type: string; first: string; last: string; days: number }>> {
    const lookups = [...new Set(types)].map((t) => this.lookup(session.keys, t));
    const codeOf = new Map(lookups.map((t) => [hex(t.mac), t.code]));
    const out = new Map<string, { type: string; first: string; last: string; days: number }>();
    for (const r of await this.repo.coverage(session.userId, lookups)) {
      const type = r.type_mac ? codeOf.get(hex(r.type_mac)) : r.legacy_type;
      if (!type) continue;
      const prev = out.get(type);
      // Mid-upgrade, one type can have rows under its MAC and rows still under its clear code.
      out.set(
        type,
        prev
          ? { type, first: min(prev.first, r.first), last: max(prev.last, r.last), days: prev.days + r.days }
          : { type, first: r.first, last: r.last, days: r.days },
      );
    }
    return [...out.values()];
  }

  /**
   * The last stored day of a type on or before `day`, not before `first`: read backwards in
   * windows that double, so data up to `day` costs one small read and a gap of centuries a dozen.
   */
  async lastDayBy(session: Keys, type: string, first: string, day: string): Promise<string | undefined> {
    const lookup = this.lookup(session.keys, type);
    for (let to = day, span = 32; to >= first; span *= 2) {
      const from = max(first, shiftDays(to, 1 - span));
      const rows = await this.repo.stats(session.userId, lookup, from, to);
      if (rows.length) return rows.at(-1)!.date;
      to = shiftDays(from, -1);
    }
    return undefined;
  }

  /**
   * Takes samples out of their stored days (a hand entry edited or deleted, a FHIR result
   * corrected): each stored sample with the same start, value and source name as one given is
   * dropped and the day's stats are recomputed. With `anySource`, the source name is not
   * compared: a stored resource's samples are recomputed without the Bundle their references
   * were resolved in, so the name a device or performer got then may not be known. Days left
   * empty keep a row with no samples, which reads as no data.
   */
  async remove(session: Keys, samples: QuantitySample[], opts: { anySource?: boolean } = {}): Promise<void> {
    const days = new Map<string, DayRemoval>();
    for (const s of samples) {
      addRemoval(days, s.type, s.localDate, s.startMs, { value: s.value, unit: s.unit, sourceName: opts.anySource ? undefined : s.sourceName });
    }
    await this.#removeFromDays(session, [...days.values()]);
  }

  /**
   * Takes exactly the samples of chunks sealed elsewhere as version 1 (see `storeSealed`) out of
   * their stored days: same start, duration, value and source name (a Fitbit import in another
   * zone than an earlier one takes back what that one stored). Removing what is not stored does
   * nothing, so a batch sent again (a resumed job) is harmless. Days go MERGE_DAYS or
   * MERGE_BYTES at a time, like `storeSealed`.
   */
  async retractSealed(session: Keys, sealed: SealedChunk[]): Promise<void> {
    const { keys, userId } = session;
    let part = new Map<string, DayRemoval>();
    let bytes = 0;
    for (const c of sealed) {
      if (c.type.includes('|') || c.count === 0) continue;
      const chunk = decodeChunk(this.#plain(keys, userId, c.type, { date: c.date, version: 1, ciphertext: c.ciphertext }));
      for (const [start, durationMs, value, si] of chunk.samples) {
        addRemoval(part, chunk.type, chunk.date, start, { durationMs, value, unit: chunk.unit, sourceName: chunk.sources[si] ?? '' });
      }
      bytes += c.ciphertext.length;
      if (part.size >= MERGE_DAYS || bytes >= MERGE_BYTES) {
        await this.#removeFromDays(session, [...part.values()]);
        part = new Map();
        bytes = 0;
      }
    }
    if (part.size) await this.#removeFromDays(session, [...part.values()]);
  }

  /** Rewrites each stored day that holds a sample matching one of its removals, stats recomputed. */
  async #removeFromDays(session: Keys, days: DayRemoval[]): Promise<void> {
    if (days.length === 0) return;
    const { userId, keys } = session;
    const byKey = new Map(days.map((d) => [`${d.type}\u0000${d.date}`, d]));
    const types = this.#typeWrites(
      session,
      days.map((d) => d.type),
    );
    const macOf = new Map(types.map((t) => [t.code, t.mac]));
    const typeOf = new Map(types.map((t) => [hex(t.mac), t.code]));
    await this.repo.mergeInto(
      userId,
      types,
      days.map((d) => ({ typeMac: macOf.get(d.type)!, date: d.date })),
      (existing) =>
        existing.flatMap((row) => {
          const type = typeOf.get(hex(row.type_mac))!;
          const gone = byKey.get(`${type}\u0000${row.date}`);
          if (!gone) return [];
          const chunk = this.open(keys, userId, type, row);
          const conversions = new Map<string, UnitConversion>();
          const inDayUnit = (g: SampleToRemove) => {
            let c = conversions.get(g.unit);
            if (!c) conversions.set(g.unit, (c = unitConversion(g.unit, chunk.unit, type) ?? SAME_UNIT));
            return convertValue(g.value, c);
          };
          const kept = chunk.samples.filter(
            ([start, duration, value, si]) =>
              !gone.byStart
                .get(start)
                ?.some(
                  (g) =>
                    (g.durationMs === undefined || g.durationMs === duration) &&
                    (g.sourceName === undefined || g.sourceName === chunk.sources[si]) &&
                    Math.abs(inDayUnit(g) - value) < 1e-9,
                ),
          );
          if (kept.length === chunk.samples.length) return [];
          const next: DayChunk = { ...chunk, samples: kept };
          next.stats = computeStats(next);
          const version = row.version + 1;
          return [
            {
              typeMac: row.type_mac,
              date: row.date,
              version,
              ciphertext: codec.seriesChunk.seal(keys, userId, next, version),
              stats: codec.seriesStats.seal(keys, userId, next, version),
            },
          ];
        }),
    );
  }

  /**
   * Daily statistics for one type between two local dates (both inclusive), from the chunks'
   * sealed stats (or, for chunks written before those existed, the chunks' headers, whose stats
   * are then stored). Days stored in another unit (an export after the person switched kg to
   * lb) are converted to the first day's unit, answered in its canonical spelling ("/min" for a
   * series that holds "count/min" days too).
   */
  async days(session: SessionContext, q: { type: string; from?: string; to?: string }): Promise<{ type: string; unit: string | null; days: SeriesDay[] }> {
    const { keys, userId } = session;
    const type = this.lookup(keys, q.type);
    const rows = await this.repo.stats(userId, type, q.from, q.to);
    const stored: Array<{ unit: string; stats: SeriesDay }> = [];
    const backfill: Array<{ date: string; version: number; stats: Buffer }> = [];
    for (const row of rows) {
      let h: { unit: string; stats: DayStats };
      if (row.stats) h = this.#openStats(keys, userId, q.type, { ...row, stats: row.stats });
      else {
        h = readHeader(this.#plain(keys, userId, q.type, { ...row, ciphertext: row.ciphertext! }));
        backfill.push({
          date: row.date,
          version: row.version,
          stats: codec.seriesStats.seal(keys, userId, { type: q.type, date: row.date, ...h }, row.version),
        });
      }
      stored.push({ unit: h.unit, stats: { date: row.date, ...h.stats } });
    }
    if (backfill.length) await this.repo.backfillStats(userId, type, backfill);
    const { unit, kept } = inOneUnit(q.type, stored);
    return { type: q.type, unit, days: kept };
  }
}

/**
 * How a stored day's statistics read in the series' unit: the units' own conversion, else the
 * analyte's (a lab's glucose in mmol/L among days in mg/dL). A day whose unit converts by neither
 * is left out of the answer, never shown under a unit it is not in.
 */
export function seriesConversion(type: string, from: string, to: string): UnitConversion | undefined {
  const c = unitConversion(from, to, type);
  if (c) return c;
  const f = analyteFactor(type, from, to);
  return f === undefined ? undefined : { scale: f, offset: 0 };
}

/** A sample to take out of a stored day; an unset duration or source name matches any. */
interface SampleToRemove {
  durationMs?: number;
  value: number;
  unit: string;
  sourceName?: string;
}

/** What to take out of one stored (type, day), by start: one lookup per stored sample. */
interface DayRemoval {
  type: string;
  date: string;
  byStart: Map<number, SampleToRemove[]>;
}

function addRemoval(days: Map<string, DayRemoval>, type: string, date: string, start: number, s: SampleToRemove): void {
  // A type code with '|' could not be bound unambiguously by the AAD; no such day is stored.
  if (type.includes('|')) return;
  const k = `${type}\u0000${date}`;
  let day = days.get(k);
  if (!day) days.set(k, (day = { type, date, byStart: new Map() }));
  const at = day.byStart.get(start);
  if (at) at.push(s);
  else day.byStart.set(start, [s]);
}

const min = (a: string, b: string) => (a < b ? a : b);
const max = (a: string, b: string) => (a > b ? a : b);

/** The date `by` days after `d`; setUTCFullYear, not Date.UTC, which reads years 0–99 as 1900–1999. */
function shiftDays(d: string, by: number): string {
  const t = new Date(0);
  t.setUTCFullYear(Number(d.slice(0, 4)), Number(d.slice(5, 7)) - 1, Number(d.slice(8, 10)) + by);
  return t.toISOString().slice(0, 10);
}

/**
 * Day `day` of the month `by` months after the month of `m` (day 0: the last day of the month
 * before), as YYYY-MM-DD. setUTCFullYear, not Date.UTC, which reads years 0–99 as 1900–1999.
 */
function addMonths(m: string, by: number, day = 1): string {
  const d = new Date(0);
  d.setUTCFullYear(Number(m.slice(0, 4)), Number(m.slice(5, 7)) - 1 + by, day);
  return d.toISOString().slice(0, 10);
}

/**
 * Stored days' or months' stats in one unit: the first one's (in its canonical spelling), the
 * others converted to it or left out, never shown under a unit they are not in; empty ones are
 * left out. Stats stored without a unit (an Apple record that had none, before imports left those
 * out; a FHIR value without one, which the importer stores in UCUM's unity "1") cannot say what
 * the series is in, would hide every one that has a unit, and must never be converted: they are
 * kept only when none has a unit, under "", as the labs name an unknown unit.
 */
function inOneUnit<S extends DayStats>(type: string, all: Array<{ unit: string; stats: S }>): { unit: string | null; kept: S[] } {
  const stored = all.filter((x) => x.stats.count > 0);
  const known = stored.filter((x) => hasUnit(x.unit));
  if (!known.length) return { unit: stored.length ? '' : null, kept: stored.map((x) => x.stats) };
  const unit = canonicalUnit(known[0]!.unit);
  return {
    unit,
    kept: known.flatMap((x) => {
      const c = seriesConversion(type, x.unit, unit);
      return c ? [convertStats(x.stats, c)] : [];
    }),
  };
}

/** Daily stats (already in one unit) summed up per month; a mean is weighted by its samples. */
function rollMonths(days: SeriesDay[], unit: string): Map<string, MonthStats> {
  const out = new Map<string, MonthStats>();
  for (const d of days) {
    if (d.count === 0) continue;
    const m = `${d.date.slice(0, 7)}-01`;
    const cur = out.get(m) ?? { unit, days: 0, count: 0, min: Infinity, max: -Infinity, mean: 0, sum: 0 };
    cur.mean = (cur.mean * cur.count + d.mean * d.count) / (cur.count + d.count);
    cur.days += 1;
    cur.count += d.count;
    cur.min = Math.min(cur.min, d.min);
    cur.max = Math.max(cur.max, d.max);
    cur.sum += d.sum;
    out.set(m, cur);
  }
  return out;
}

/** A day whose unit does not convert (a source that changed what it measures) keeps what it has. */
function tryMerge(a: DayChunk, b: DayChunk): DayChunk | undefined {
  try {
    return mergeChunks(a, b);
  } catch (err) {
    if (err instanceof RangeError) return undefined;
    throw err;
  }
}

/**
 * The unit and stats of an encoded chunk without decoding its samples (the binary format keeps
 * them in a JSON header; see integrations/series/day-chunk.ts). A year of 5-second heart rate is
 * then 365 small JSON parses instead of six million samples.
 */
function readHeader(b: Buffer): { unit: string; stats: DayStats } {
  if (b.length >= 10 && b.readUInt32LE(0) === 0x43445643 && b[4] === 1) {
    const hl = b.readUInt32LE(6);
    if (10 + hl <= b.length) {
      const h = JSON.parse(b.toString('utf8', 10, 10 + hl)) as { unit: string; stats: DayStats };
      return { unit: h.unit, stats: h.stats };
    }
  }
  const c = decodeChunk(b);
  return { unit: c.unit, stats: c.stats };
}
