/** Data points -> vault samples (HealthKit type codes) and records, in the user's local days. */
import { createHash } from 'node:crypto';
import { isoUtc, localDateAtOffset, localDateOf, zonedToUtc } from '../fitbit/time.js';
import type { QuantitySample, RecordInput } from '../types.js';
import type { CivilDateTime, DataPoint, GDate, GoogleHealthDataType } from './api-client.js';

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
        samples: [{ type: HR, unit: '/min', startMs: ms, endMs: ms, localDate: localDate(ms, st?.civilTime, st?.utcOffset, tz), value: bpm, sourceName }],
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
        samples: [
          {
            type: STEPS,
            unit: 'count',
            startMs: a,
            endMs: Number.isFinite(b) ? b : a,
            localDate: localDate(a, iv?.civilStartTime, iv?.startUtcOffset, tz),
            value: count,
            sourceName,
          },
        ],
        records: [],
      };
    }
    case 'weight': {
      const st = dp.weight?.sampleTime;
      const ms = st?.physicalTime ? Date.parse(st.physicalTime) : NaN;
      const g = n64(dp.weight?.weightGrams);
      if (!Number.isFinite(ms) || g === null || g <= 0) return none;
      return {
        samples: [
          {
            type: MASS,
            unit: 'kg',
            startMs: ms,
            endMs: ms,
            localDate: localDate(ms, st?.civilTime, st?.utcOffset, tz),
            value: Math.round(g) / 1000,
            sourceName,
          },
        ],
        records: [],
      };
    }
    case 'daily-resting-heart-rate': {
      const d = dp.dailyRestingHeartRate?.date;
      const bpm = n64(dp.dailyRestingHeartRate?.beatsPerMinute);
      if (!d?.year || !d.month || !d.day || bpm === null || bpm <= 0) return none;
      // The date is already the user's local day; the instant is only an anchor at its midnight.
      const ms = zonedToUtc(d.year, d.month, d.day, 0, 0, 0, 0, tz);
      return { samples: [{ type: RHR, unit: '/min', startMs: ms, endMs: ms, localDate: gdate(d), value: bpm, sourceName }], records: [] };
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
  const wall = (ms: number, off: number | null): string => isoUtc(ms + (off ?? 0) * 60_000).slice(11, 16) + (off === null ? ' UTC' : '');
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
  return { samples: [{ type: SLEEP, unit: 'min', startMs: a, endMs: b, localDate: day, value: asleep, sourceName }], records: [record] };
}

/** The instant after which a point is "seen", for the cursor: its end, or its time. */
export function pointEnd(type: GoogleHealthDataType, dp: DataPoint, tz: string): number | null {
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
