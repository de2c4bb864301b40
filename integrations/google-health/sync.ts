/** Incremental sync: every data type from its cursor, page by page, into a sink. */
import { isoUtc } from '../fitbit/time.js';
import type { QuantitySample, RecordInput } from '../types.js';
import {
  fetchDataPointsPage,
  filterFor,
  GOOGLE_HEALTH_DATA_TYPES,
  type GoogleHealthClientOptions,
  type GoogleHealthDataType,
  GoogleHealthError,
} from './api-client.js';
import { normalizeDataPoint, type NormalizeOptions, pointEnd } from './normalize.js';

/** Where synced data goes; each call is awaited (backpressure). */
export interface GoogleHealthSink {
  samples(batch: QuantitySample[]): Promise<void> | void;
  records(batch: RecordInput[]): Promise<void> | void;
}

/** Per-data-type cursors: the latest end time seen (RFC 3339), per type. */
export type GoogleHealthCursors = Partial<Record<GoogleHealthDataType, string>>;

/** Options of a sync. */
export interface SyncOptions extends GoogleHealthClientOptions, NormalizeOptions {
  /** Where the first sync starts when no cursor exists (default: 30 days ago). */
  initialSince?: string;
  /**
   * How far before the cursor the next sync reads again (default 24 h): watches upload hours
   * late, so points can appear behind the cursor. Re-read points are exact duplicates, which the
   * day-chunk store keeps once, and records carry a stable `externalId`.
   */
  lookbackMs?: number;
  /** Most pages read per data type in one sync (default 1,000), so a sync always ends. */
  maxPages?: number;
}

/** What one data type's sync did. */
export interface SyncTypeResult {
  /** The cursor to store: unchanged when nothing new was seen. */
  cursor: string | undefined;
  samples: number;
  records: number;
  pages: number;
}

/**
 * Sync one data type from `cursor` onwards, page by page, handing each page to `sink` before
 * the next is fetched. The returned cursor is the latest end time seen.
 */
export async function syncDataType(
  accessToken: string,
  type: GoogleHealthDataType,
  cursor: string | undefined,
  sink: GoogleHealthSink,
  opts: SyncOptions = {},
): Promise<SyncTypeResult> {
  const tz = opts.timezone ?? 'UTC';
  const lookback = opts.lookbackMs ?? 24 * 3_600_000;
  const sinceMs = cursor ? Date.parse(cursor) - lookback : opts.initialSince ? Date.parse(opts.initialSince) : Date.now() - 30 * 86_400_000;
  const filter = filterFor(type, isoUtc(Number.isFinite(sinceMs) ? sinceMs : 0));
  const maxPages = opts.maxPages ?? 1_000;
  let latest = cursor ? Date.parse(cursor) : -Infinity;
  let pageToken: string | undefined;
  const seenTokens = new Set<string>();
  let pages = 0;
  let nSamples = 0;
  let nRecords = 0;
  do {
    const page = await fetchDataPointsPage(accessToken, type, { filter, pageToken }, opts);
    pages += 1;
    const samples: QuantitySample[] = [];
    const records: RecordInput[] = [];
    for (const dp of page.dataPoints ?? []) {
      const n = normalizeDataPoint(type, dp, { timezone: tz });
      samples.push(...n.samples);
      records.push(...n.records);
      const end = pointEnd(type, dp, tz);
      if (end !== null && end > latest) latest = end;
    }
    if (samples.length) await sink.samples(samples);
    if (records.length) await sink.records(records);
    nSamples += samples.length;
    nRecords += records.length;
    pageToken = page.nextPageToken || undefined;
    if (pageToken && seenTokens.has(pageToken)) {
      throw new GoogleHealthError('bad_response', null, `Google Health sent a ${type} page token it had already sent; the sync stopped instead of looping.`);
    }
    if (pageToken) seenTokens.add(pageToken);
    if (pageToken && pages >= maxPages) {
      throw new GoogleHealthError('incomplete', null, `Google Health had more than ${maxPages} pages of ${type}; the rest was not read.`);
    }
  } while (pageToken);
  return { cursor: Number.isFinite(latest) ? isoUtc(latest) : cursor, samples: nSamples, records: nRecords, pages };
}

/**
 * Sync every data type in turn. A type that fails with 403 (permission not granted) is skipped
 * and reported; any other error stops the sync, keeping the cursors already advanced.
 */
export async function syncGoogleHealth(
  accessToken: string,
  cursors: GoogleHealthCursors,
  sink: GoogleHealthSink,
  opts: SyncOptions & { types?: readonly GoogleHealthDataType[] } = {},
): Promise<{
  cursors: GoogleHealthCursors;
  counts: Record<string, number>;
  skipped: Partial<Record<GoogleHealthDataType, string>>;
  /** Types cut off at the page cap (their reason is in `skipped`). */
  incomplete: GoogleHealthDataType[];
}> {
  const next: GoogleHealthCursors = { ...cursors };
  const counts: Record<string, number> = {};
  const skipped: Partial<Record<GoogleHealthDataType, string>> = {};
  const incomplete: GoogleHealthDataType[] = [];
  const counting: GoogleHealthSink = {
    samples: (b) => {
      for (const s of b) counts[s.type] = (counts[s.type] ?? 0) + 1;
      return sink.samples(b);
    },
    records: (b) => {
      for (const r of b) counts[`record:${r.type}`] = (counts[`record:${r.type}`] ?? 0) + 1;
      return sink.records(b);
    },
  };
  for (const type of opts.types ?? GOOGLE_HEALTH_DATA_TYPES) {
    try {
      const r = await syncDataType(accessToken, type, cursors[type], counting, opts);
      if (r.cursor) next[type] = r.cursor;
    } catch (err) {
      if (err instanceof GoogleHealthError && err.code === 'forbidden') {
        skipped[type] = err.message;
        continue;
      }
      // The type's cursor stays where it was, so the unread rest is asked for again next time.
      if (err instanceof GoogleHealthError && err.code === 'incomplete') {
        skipped[type] = err.message;
        incomplete.push(type);
        continue;
      }
      throw Object.assign(err as Error, { cursors: next });
    }
  }
  return { cursors: next, counts, skipped, incomplete };
}
