/**
 * Data layer of the Google Health API v4 connector (the successor of the Fitbit Web API):
 * paged reads of `users/me/dataTypes/{type}/dataPoints`, back-off on 429, a cursor per data
 * type for incremental sync, and normalisation into vault samples and records.
 *
 * Shapes, from the v4 reference and its generated clients (googleapis.dev .NET
 * `Google.Apis.GoogleHealthAPI.v4`, deno `health:v4.ts`, pub.dev `health_v4`), as read in 2026:
 * - `ListDataPointsResponse { dataPoints?: DataPoint[]; nextPageToken?: string }`
 * - `DataPoint { name, dataSource?: { device?, application?, platform?, recordingMethod? }, <member> }`
 *   with one member per type: `heartRate`, `steps`, `sleep`, `weight`, `dailyRestingHeartRate`.
 * - `ObservationSampleTime { physicalTime (RFC 3339), utcOffset (Duration "3600s"), civilTime }`
 * - `ObservationTimeInterval { startTime, startUtcOffset, endTime, endUtcOffset, civilStartTime,
 *   civilEndTime }`; `CivilDateTime { date: {year, month, day}, time: {hours, minutes, ...} }`
 * - `heartRate.beatsPerMinute`, `steps.count`, `dailyRestingHeartRate.beatsPerMinute` are int64,
 *   so they arrive as JSON strings; `weight.weightGrams` is a double.
 *
 * Assumptions (not confirmed by a live response): the union member names are the camelCase of
 * the hyphenated data type ids; `sleep.summary.minutesAsleep` is int64 (string or number);
 * `sleep.stages[]` is `{type, startTime, endTime}`; `dataSource.device` has `displayName` and/or
 * `model`; the list filter fields are `<snake_type>.sample_time.physical_time`,
 * `<snake_type>.interval.start_time` and `daily_resting_heart_rate.date`. Parsing is tolerant of
 * each of these being absent.
 */
import { createHash } from 'node:crypto';
import type { QuantitySample, RecordInput } from '../types.js';
import { isoUtc, localDateAtOffset, localDateOf, zonedToUtc } from '../fitbit/time.js';

/** The data types this connector reads (hyphenated ids, as the API requires). */
export type GoogleHealthDataType = 'heart-rate' | 'steps' | 'sleep' | 'weight' | 'daily-resting-heart-rate';

/** All data types, in sync order. */
export const GOOGLE_HEALTH_DATA_TYPES: readonly GoogleHealthDataType[] = [
  'heart-rate',
  'steps',
  'sleep',
  'weight',
  'daily-resting-heart-rate',
];

/** Default API origin; `/v4/...` is appended. */
export const GOOGLE_HEALTH_BASE_URL = 'https://health.googleapis.com';

/** Why an API call failed; never carries the access token. */
export type GoogleHealthErrorCode = 'unauthorized' | 'forbidden' | 'rate_limited' | 'gone' | 'bad_request' | 'server' | 'network' | 'aborted';

/** A failed Google Health API call, with a message safe to log and show. */
export class GoogleHealthError extends Error {
  readonly code: GoogleHealthErrorCode;
  readonly status: number | null;
  constructor(code: GoogleHealthErrorCode, status: number | null, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GoogleHealthError';
    this.code = code;
    this.status = status;
  }
}

/** A time with its civil breakdown, as the API writes it. */
export interface ObservationSampleTime {
  physicalTime?: string;
  utcOffset?: string;
  civilTime?: CivilDateTime;
}
/** An interval with offsets and civil breakdowns, as the API writes it. */
export interface ObservationTimeInterval {
  startTime?: string;
  startUtcOffset?: string;
  endTime?: string;
  endUtcOffset?: string;
  civilStartTime?: CivilDateTime;
  civilEndTime?: CivilDateTime;
}
/** google.type.Date + TimeOfDay. */
export interface CivilDateTime {
  date?: GDate;
  time?: { hours?: number; minutes?: number; seconds?: number; nanos?: number };
}
/** google.type.Date. */
export interface GDate {
  year?: number;
  month?: number;
  day?: number;
}
type Int64 = string | number;

/** One data point of the list response (only the members this connector reads). */
export interface DataPoint {
  name?: string;
  dataSource?: {
    platform?: string;
    recordingMethod?: string;
    device?: { displayName?: string; model?: string; manufacturer?: string; formFactor?: string };
    application?: { displayName?: string; packageName?: string };
  };
  heartRate?: { sampleTime?: ObservationSampleTime; beatsPerMinute?: Int64 };
  steps?: { interval?: ObservationTimeInterval; count?: Int64 };
  weight?: { sampleTime?: ObservationSampleTime; weightGrams?: number | string; notes?: string };
  dailyRestingHeartRate?: { date?: GDate; beatsPerMinute?: Int64 };
  sleep?: {
    interval?: ObservationTimeInterval;
    metadata?: { nap?: boolean; [k: string]: unknown };
    summary?: {
      minutesAsleep?: Int64;
      minutesAwake?: Int64;
      minutesInSleepPeriod?: Int64;
      minutesToFallAsleep?: Int64;
      minutesAfterWakeUp?: Int64;
      stagesSummary?: Array<{ type?: string; minutes?: Int64; count?: Int64 }>;
    };
    stages?: Array<{ type?: string; startTime?: string; endTime?: string }>;
  };
}

/** `ListDataPointsResponse`. */
export interface ListDataPointsResponse {
  dataPoints?: DataPoint[];
  nextPageToken?: string;
}

/** Transport and retry settings. */
export interface GoogleHealthClientOptions {
  /** API origin (tests point this at the fake server). Default {@link GOOGLE_HEALTH_BASE_URL}. */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** Retries of one request after 429 or 5xx (default 5). */
  maxRetries?: number;
  /** Cap on one wait, whatever Retry-After says (default 60 s). */
  maxRetryDelayMs?: number;
  /** First back-off when no Retry-After is given (default 1 s), doubled each retry. */
  baseRetryDelayMs?: number;
  /** Page size asked for (the API caps it; sleep pages hold at most 25). */
  pageSize?: number;
  signal?: AbortSignal;
  /** Injected for tests. */
  sleep?(ms: number, signal?: AbortSignal): Promise<void>;
}

const FILTER_FIELD: Record<GoogleHealthDataType, { field: string; kind: 'time' | 'date' }> = {
  'heart-rate': { field: 'heart_rate.sample_time.physical_time', kind: 'time' },
  steps: { field: 'steps.interval.start_time', kind: 'time' },
  sleep: { field: 'sleep.interval.start_time', kind: 'time' },
  weight: { field: 'weight.sample_time.physical_time', kind: 'time' },
  'daily-resting-heart-rate': { field: 'daily_resting_heart_rate.date', kind: 'date' },
};

/** The AIP-160 filter selecting points at or after `since` (an RFC 3339 instant). */
export function filterFor(type: GoogleHealthDataType, since: string): string {
  const f = FILTER_FIELD[type];
  const value = f.kind === 'date' ? since.slice(0, 10) : since;
  return `${f.field} >= "${value}"`;
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new GoogleHealthError('aborted', null, 'The sync was cancelled.'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new GoogleHealthError('aborted', null, 'The sync was cancelled.'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Seconds or an HTTP date, as milliseconds from now; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - now) : null;
}

/** A short, token-free description of an API error body. */
async function describe(res: Response, token: string): Promise<string> {
  let detail = '';
  try {
    const body = (await res.json()) as { error?: { status?: string; message?: string } };
    detail = [body.error?.status, body.error?.message].filter(Boolean).join(': ');
  } catch {
    /* a non-JSON error body says nothing useful */
  }
  // Defence in depth: an echoing proxy must not leak the bearer token into logs.
  return detail.split(token).join('[redacted]').slice(0, 300);
}

/**
 * GET one page of data points. Retries 429 (honouring Retry-After, capped) and 5xx with
 * bounded exponential back-off; 401 means the access token must be refreshed by the caller.
 */
export async function fetchDataPointsPage(
  accessToken: string,
  type: GoogleHealthDataType,
  params: { filter?: string; pageToken?: string },
  opts: GoogleHealthClientOptions = {},
): Promise<ListDataPointsResponse> {
  const base = (opts.baseUrl ?? GOOGLE_HEALTH_BASE_URL).replace(/\/+$/, '');
  const url = new URL(`${base}/v4/users/me/dataTypes/${type}/dataPoints`);
  if (params.filter) url.searchParams.set('filter', params.filter);
  if (params.pageToken) url.searchParams.set('pageToken', params.pageToken);
  if (opts.pageSize) url.searchParams.set('pageSize', String(opts.pageSize));
  const doFetch = opts.fetch ?? fetch;
  const sleep = opts.sleep ?? defaultSleep;
  const maxRetries = opts.maxRetries ?? 5;
  const maxDelay = opts.maxRetryDelayMs ?? 60_000;
  const baseDelay = opts.baseRetryDelayMs ?? 1_000;

  for (let attempt = 0; ; attempt++) {
    if (opts.signal?.aborted) throw new GoogleHealthError('aborted', null, 'The sync was cancelled.');
    let res: Response;
    try {
      res = await doFetch(url, {
        headers: { Authorization: `Bearer ${accessToken}`, Accept: 'application/json' },
        // Never follow a redirect: it would carry the bearer token past the configured origin
        // (and past the endpoint guard), e.g. to 127.0.0.1.
        redirect: 'manual',
        signal: opts.signal,
      });
    } catch (err) {
      if (opts.signal?.aborted) throw new GoogleHealthError('aborted', null, 'The sync was cancelled.');
      if (attempt < maxRetries) {
        await sleep(Math.min(maxDelay, baseDelay * 2 ** attempt), opts.signal);
        continue;
      }
      throw new GoogleHealthError('network', null, `Google Health could not be reached (${(err as Error).name}).`);
    }
    if (res.ok) return (await res.json()) as ListDataPointsResponse;
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel().catch(() => {});
      throw new GoogleHealthError('bad_request', res.status, `Google Health answered ${res.status} (a redirect) for ${type}; it was not followed.`);
    }
    const retryable = res.status === 429 || res.status >= 500;
    if (retryable && attempt < maxRetries) {
      const hinted = parseRetryAfter(res.headers.get('retry-after'));
      const backoff = baseDelay * 2 ** attempt * (1 + Math.random() * 0.2);
      await res.body?.cancel().catch(() => {});
      await sleep(Math.min(maxDelay, hinted ?? backoff), opts.signal);
      continue;
    }
    const detail = await describe(res, accessToken);
    const suffix = detail ? ` (${detail})` : '';
    switch (res.status) {
      case 401:
        throw new GoogleHealthError('unauthorized', 401, `Google Health refused the access token; reconnect or refresh it${suffix}.`);
      case 403:
        throw new GoogleHealthError('forbidden', 403, `Google Health denied access to ${type}; the permission may not have been granted${suffix}.`);
      case 410:
        throw new GoogleHealthError('gone', 410, `This Google Health endpoint is no longer available${suffix}.`);
      case 429:
        throw new GoogleHealthError('rate_limited', 429, `Google Health kept rate-limiting requests for ${type} after ${maxRetries} retries; try again later.`);
      default:
        throw new GoogleHealthError(
          res.status >= 500 ? 'server' : 'bad_request',
          res.status,
          `Google Health answered ${res.status} for ${type}${suffix}.`,
        );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Normalisation

const HR = 'HKQuantityTypeIdentifierHeartRate';
const STEPS = 'HKQuantityTypeIdentifierStepCount';
const RHR = 'HKQuantityTypeIdentifierRestingHeartRate';
const MASS = 'HKQuantityTypeIdentifierBodyMass';
const SLEEP = 'HKCategoryTypeIdentifierSleepAnalysis';

/** Normalisation settings. */
export interface NormalizeOptions {
  /** Zone used only when a point carries neither civil time nor a UTC offset. Default UTC. */
  timezone?: string;
}

function n64(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '') {
    const x = Number(v);
    return Number.isFinite(x) ? x : null;
  }
  return null;
}

/** A protobuf Duration ("3600s", "-18000s", "19800.5s") in minutes. */
export function durationMinutes(d: string | undefined): number | null {
  if (!d) return null;
  const m = /^(-?\d+(?:\.\d+)?)s$/.exec(d.trim());
  return m ? Math.round(Number(m[1]) / 60) : null;
}

function civilDate(c: CivilDateTime | undefined): string | null {
  const d = c?.date;
  if (!d?.year || !d.month || !d.day) return null;
  return gdate(d);
}

function gdate(d: GDate): string {
  return `${String(d.year).padStart(4, '0')}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
}

/** The local date of an instant: civil time first, then the stated offset, then the zone. */
function localDate(ms: number, civil: CivilDateTime | undefined, offset: string | undefined, tz: string): string {
  return civilDate(civil) ?? (durationMinutes(offset) !== null ? localDateAtOffset(ms, durationMinutes(offset)!) : localDateOf(ms, tz));
}

const PLATFORM_NAMES: Record<string, string> = {
  FITBIT: 'Fitbit',
  FITBIT_WEB_API: 'Fitbit',
  HEALTH_CONNECT: 'Health Connect',
  HEALTH_KIT: 'Apple Health',
  FIT: 'Google Fit',
  NEST: 'Nest',
};

/** The device's name when the point gives one, else its platform, else "Google Health". */
export function sourceNameOf(dp: DataPoint): string {
  const dev = dp.dataSource?.device;
  const name = dev?.displayName?.trim() || dev?.model?.trim() || dp.dataSource?.application?.displayName?.trim();
  if (name) return name;
  return PLATFORM_NAMES[dp.dataSource?.platform ?? ''] ?? 'Google Health';
}

function fmtMin(min: number): string {
  const m = Math.round(min);
  if (m < 60) return `${m} min`;
  return m % 60 === 0 ? `${Math.floor(m / 60)} h` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Turn one data point into samples and (for sleep) a record; unusable points give nothing. */
export function normalizeDataPoint(
  type: GoogleHealthDataType,
  dp: DataPoint,
  opts: NormalizeOptions = {},
): { samples: QuantitySample[]; records: RecordInput[] } {
  const tz = opts.timezone ?? 'UTC';
  const sourceName = sourceNameOf(dp);
  const none = { samples: [], records: [] };
  switch (type) {
    case 'heart-rate': {
      const st = dp.heartRate?.sampleTime;
      const ms = st?.physicalTime ? Date.parse(st.physicalTime) : NaN;
      const bpm = n64(dp.heartRate?.beatsPerMinute);
      if (!Number.isFinite(ms) || bpm === null || bpm <= 0) return none;
      return {
        samples: [{ type: HR, unit: 'count/min', startMs: ms, endMs: ms, localDate: localDate(ms, st?.civilTime, st?.utcOffset, tz), value: bpm, sourceName }],
        records: [],
      };
    }
    case 'steps': {
      const iv = dp.steps?.interval;
      const a = iv?.startTime ? Date.parse(iv.startTime) : NaN;
      const b = iv?.endTime ? Date.parse(iv.endTime) : a;
      const count = n64(dp.steps?.count);
      if (!Number.isFinite(a) || count === null || count <= 0) return none;
      return {
        samples: [{ type: STEPS, unit: 'count', startMs: a, endMs: Number.isFinite(b) ? b : a, localDate: localDate(a, iv?.civilStartTime, iv?.startUtcOffset, tz), value: count, sourceName }],
        records: [],
      };
    }
    case 'weight': {
      const st = dp.weight?.sampleTime;
      const ms = st?.physicalTime ? Date.parse(st.physicalTime) : NaN;
      const g = n64(dp.weight?.weightGrams);
      if (!Number.isFinite(ms) || g === null || g <= 0) return none;
      return {
        samples: [{ type: MASS, unit: 'kg', startMs: ms, endMs: ms, localDate: localDate(ms, st?.civilTime, st?.utcOffset, tz), value: Math.round(g) / 1000, sourceName }],
        records: [],
      };
    }
    case 'daily-resting-heart-rate': {
      const d = dp.dailyRestingHeartRate?.date;
      const bpm = n64(dp.dailyRestingHeartRate?.beatsPerMinute);
      if (!d?.year || !d.month || !d.day || bpm === null || bpm <= 0) return none;
      // The date is already the user's local day; the instant is only an anchor at its midnight.
      const ms = zonedToUtc(d.year, d.month, d.day, 0, 0, 0, 0, tz);
      return { samples: [{ type: RHR, unit: 'count/min', startMs: ms, endMs: ms, localDate: gdate(d), value: bpm, sourceName }], records: [] };
    }
    case 'sleep':
      return normalizeSleep(dp, tz, sourceName);
  }
}

function normalizeSleep(dp: DataPoint, tz: string, sourceName: string): { samples: QuantitySample[]; records: RecordInput[] } {
  const s = dp.sleep;
  const iv = s?.interval;
  const a = iv?.startTime ? Date.parse(iv.startTime) : NaN;
  const b = iv?.endTime ? Date.parse(iv.endTime) : NaN;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return { samples: [], records: [] };
  let asleep = n64(s?.summary?.minutesAsleep);
  if (asleep === null && s?.stages?.length) {
    // Without a summary, asleep time is every stage that is not a wake stage.
    asleep = s.stages
      .filter((st) => st.type && !/AWAKE|WAKE|OUT_OF_BED/i.test(st.type))
      .reduce((sum, st) => sum + Math.max(0, (Date.parse(st.endTime ?? '') - Date.parse(st.startTime ?? '')) / 60_000 || 0), 0);
  }
  if (asleep === null) return { samples: [], records: [] };
  const day = localDate(a, iv?.civilStartTime, iv?.startUtcOffset, tz);
  const startOff = durationMinutes(iv?.startUtcOffset);
  const endOff = durationMinutes(iv?.endUtcOffset) ?? startOff;
  const wall = (ms: number, off: number | null): string =>
    isoUtc(ms + (off ?? 0) * 60_000).slice(11, 16) + (off === null ? ' UTC' : '');
  const awake = n64(s?.summary?.minutesAwake);
  const nap = s?.metadata?.nap === true;
  const stages = (s?.summary?.stagesSummary ?? [])
    .map((x) => [String(x.type ?? '').toLowerCase(), n64(x.minutes)] as const)
    .filter((x): x is readonly [string, number] => x[0] !== '' && x[1] !== null && x[1] > 0)
    .map(([t, m]) => `${t} ${fmtMin(m)}`);
  const text = [
    `Slept ${fmtMin(asleep)} from ${wall(a, startOff)} to ${wall(b, endOff)} on the night starting ${day}${nap ? ' (nap)' : ''}.`,
    awake !== null ? `Awake ${fmtMin(awake)}.` : '',
    stages.length ? `Stages: ${stages.join(', ')}.` : '',
    `Recorded by ${sourceName} via Google Health.`,
  ]
    .filter(Boolean)
    .join(' ');
  const record: RecordInput = {
    kind: 'record',
    source: 'google_health',
    type: SLEEP,
    externalId: dp.name ?? `google_health:sleep/${iv?.startTime}`,
    externalVersion: createHash('sha256').update(JSON.stringify(dp)).digest('hex').slice(0, 32),
    occurredAt: isoUtc(a),
    title: `${nap ? 'Nap' : 'Sleep'} ${fmtMin(asleep)} (${wall(a, startOff)}–${wall(b, endOff)})`,
    text,
    tags: ['google_health', 'sleep'],
    data: { original: dp, normalized: { startMs: a, endMs: b, localDate: day, minutesAsleep: asleep, sourceName } },
  };
  return {
    samples: [{ type: SLEEP, unit: 'min', startMs: a, endMs: b, localDate: day, value: asleep, sourceName }],
    records: [record],
  };
}

/** The instant after which a point is "seen", for the cursor: its end, or its time. */
function pointEnd(type: GoogleHealthDataType, dp: DataPoint, tz: string): number | null {
  let iso: string | undefined;
  switch (type) {
    case 'heart-rate':
      iso = dp.heartRate?.sampleTime?.physicalTime;
      break;
    case 'weight':
      iso = dp.weight?.sampleTime?.physicalTime;
      break;
    case 'steps':
      iso = dp.steps?.interval?.endTime ?? dp.steps?.interval?.startTime;
      break;
    case 'sleep':
      iso = dp.sleep?.interval?.endTime;
      break;
    case 'daily-resting-heart-rate': {
      const d = dp.dailyRestingHeartRate?.date;
      return d?.year && d.month && d.day ? zonedToUtc(d.year, d.month, d.day, 0, 0, 0, 0, tz) : null;
    }
  }
  const ms = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(ms) ? ms : null;
}

// ---------------------------------------------------------------------------------------------
// Sync

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
  } while (pageToken && pages < maxPages);
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
): Promise<{ cursors: GoogleHealthCursors; counts: Record<string, number>; skipped: Partial<Record<GoogleHealthDataType, string>> }> {
  const next: GoogleHealthCursors = { ...cursors };
  const counts: Record<string, number> = {};
  const skipped: Partial<Record<GoogleHealthDataType, string>> = {};
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
      throw Object.assign(err as Error, { cursors: next });
    }
  }
  return { cursors: next, counts, skipped };
}
