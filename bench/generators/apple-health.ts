/**
 * Generates Apple Health export.xml files of any size, streamed to disk (never built in one
 * string), in the record orders real files have:
 *
 * - `grouped`: Apple's own order. Records grouped by type, in time order within a type, the
 *   sources of a type mixed by time; then correlations, workouts, activity summaries and the
 *   clinical records.
 * - `interleaved`: what tools that merge and re-export write. Every record in time order, so
 *   heart rate every ~12 s alternates with step counts from two sources, energy, stand hours,
 *   blood-pressure correlations and sleep.
 * - `days-shuffled`: grouped by type, but within a type each source comes as its own run and the
 *   days arrive in a shuffled order, and one day of steps comes back a second time (an export
 *   merged with an older one).
 *
 * Every order holds the same samples: heart rate from a watch (some records with metadata
 * children, a few written twice) and from a chest strap during a daily workout, steps from an
 * iPhone and a watch, active energy, blood-pressure correlations with their members also written
 * as top-level records (as Apple does), stand hours, sleep stages, one workout and one activity
 * summary a day, and one clinical record. The summary returned says what an importer must end up
 * with: per type and local day the count and sum of distinct samples (exact duplicates once).
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { isCumulative } from '../../integrations/series/day-chunk.js';
import { APPLE_DTD } from '../../test-support/integrations/apple-health/export-writer.js';
import { mulberry32 as rng } from '../../test-support/random.js';

export type ExportOrder = 'grouped' | 'interleaved' | 'days-shuffled';
export const EXPORT_ORDERS: readonly ExportOrder[] = ['grouped', 'interleaved', 'days-shuffled'];

export interface ExportSpec {
  order: ExportOrder;
  /** Size to reach (the file ends after the day that passes it); or `days`. */
  bytes?: number;
  days?: number;
  /** Seconds between heart-rate readings (default 12). */
  hrEverySeconds?: number;
  seed?: number;
}

/** Per source: distinct samples of one (type, local day). */
interface SourceDay {
  count: number;
  sum: number;
}

export interface ExportSummary {
  path: string;
  bytes: number;
  days: number;
  /** Top-level `<Record>` elements written (duplicates included). */
  records: number;
  /** Exact duplicate records written (the importer keeps one of each). */
  duplicates: number;
  /** First and last local dates. */
  from: string;
  to: string;
  /** Quantity types written. */
  types: string[];
  /**
   * What `GET /api/records/series` must answer for `type` (day stats as the series service
   * computes them: every distinct sample, or for cumulative types the best single source).
   */
  expectedDays(type: string): Array<{ date: string; count: number; sum: number }>;
  /** Distinct samples of `type` across every source (what a first import counts as new). */
  distinct(type: string): number;
}

export const HR = 'HKQuantityTypeIdentifierHeartRate';
export const STEPS = 'HKQuantityTypeIdentifierStepCount';
export const ENERGY = 'HKQuantityTypeIdentifierActiveEnergyBurned';
export const SYSTOLIC = 'HKQuantityTypeIdentifierBloodPressureSystolic';
export const DIASTOLIC = 'HKQuantityTypeIdentifierBloodPressureDiastolic';
const STAND = 'HKCategoryTypeIdentifierAppleStandHour';
const SLEEP = 'HKCategoryTypeIdentifierSleepAnalysis';

const WATCH = 'Jane’s Apple Watch';
const PHONE = 'Jane’s iPhone';
const STRAP = 'Polar H10 12345';
const CUFF = 'Withings BPM';
const WATCH_DEVICE = '&lt;&lt;HKDevice: 0x283a1c0f0&gt;, name:Apple Watch, manufacturer:Apple Inc., model:Watch, hardware:Watch6,2, software:10.1&gt;';
const PHONE_DEVICE = '&lt;&lt;HKDevice: 0x283a1c3c0&gt;, name:iPhone, manufacturer:Apple Inc., model:iPhone, hardware:iPhone13,2, software:17.1&gt;';

const OFFSET = ' +0100';
const DAY_MS = 86_400_000;
// Local midnight of the first day at +0100.
const T0 = Date.UTC(2023, 0, 1) - 3_600_000;

const p2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/** "YYYY-MM-DD" of day `d`. */
function dateOf(d: number): string {
  return new Date(T0 + d * DAY_MS + 3_600_000).toISOString().slice(0, 10);
}

/** Apple's "YYYY-MM-DD hh:mm:ss +0100" for second `s` of day `d` (s may pass midnight). */
function at(dates: string[], d: number, s: number): string {
  while (s >= 86_400) {
    s -= 86_400;
    d++;
  }
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${dates[d] ?? dateOf(d)} ${p2(h)}:${p2(m)}:${p2(s % 60)}${OFFSET}`;
}

interface Line {
  /** Second of the day it starts (for the interleaved order). */
  s: number;
  xml: string;
}

type Stream = 'hr-watch' | 'hr-strap' | 'steps-phone' | 'steps-watch' | 'energy' | 'bp' | 'stand' | 'sleep';
const STREAMS: readonly Stream[] = ['hr-watch', 'hr-strap', 'steps-phone', 'steps-watch', 'energy', 'bp', 'stand', 'sleep'];

/**
 * Writes an export to `path`. Memory stays at one day of lines whatever the size.
 */
export async function writeAppleHealthExport(path: string, spec: ExportSpec): Promise<ExportSummary> {
  const hrEvery = spec.hrEverySeconds ?? 12;
  // Measured size of one generated day at 12 s heart rate, to size the date range.
  const perDay = 2_500_000 * (12 / hrEvery) + 1_280_000;
  const days = spec.days ?? Math.max(2, Math.ceil((spec.bytes ?? 10_000_000) / perDay));
  const seed = spec.seed ?? 12;
  const dates = Array.from({ length: days + 2 }, (_, d) => dateOf(d));
  const stats = new Map<string, Map<string, SourceDay>>(); // `${type}\0${date}` -> source -> stats
  let duplicates = 0;
  let records = 0;

  const count = (type: string, d: number, source: string, value: number) => {
    const k = `${type}\u0000${dates[d]}`;
    let m = stats.get(k);
    if (!m) stats.set(k, (m = new Map()));
    const e = m.get(source);
    if (e) {
      e.count++;
      e.sum += value;
    } else m.set(source, { count: 1, sum: value });
  };

  const rec = (type: string, source: string, device: string, unit: string, start: string, end: string, value: string | number, children = ''): string => {
    const head = `  <Record type="${type}" sourceName="${source}" sourceVersion="10.1"${device ? ` device="${device}"` : ''} unit="${unit}" creationDate="${end}" startDate="${start}" endDate="${end}" value="${value}"`;
    return children ? `${head}>\n${children}  </Record>\n` : `${head}/>\n`;
  };

  /** The lines of one stream on one day. `counting` adds them to the expected stats (once per sample). */
  const streamDay = (stream: Stream, d: number, counting: boolean): Line[] => {
    const r = rng(seed * 1_000_003 + d * 31 + STREAMS.indexOf(stream));
    const out: Line[] = [];
    switch (stream) {
      case 'hr-watch': {
        for (let s = Math.floor(r() * hrEvery), i = 0; s < 86_400; s += hrEvery - 2 + Math.floor(r() * 5), i++) {
          const t = at(dates, d, s);
          const v = 55 + ((s * 7 + d * 13) % 80);
          const meta = i % 10 === 0 ? `   <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="${i % 20 === 0 ? 1 : 0}"/>\n` : '';
          const xml = rec(HR, WATCH, WATCH_DEVICE, 'count/min', t, t, v, meta);
          out.push({ s, xml });
          if (counting) count(HR, d, WATCH, v);
          // Real exports carry exact duplicates (a sync written twice).
          if (i % 211 === 7) {
            out.push({ s, xml });
            if (counting) duplicates++;
          }
        }
        return out;
      }
      case 'hr-strap': {
        const start = 18 * 3600;
        for (let s = start; s < start + 45 * 60; s += 5) {
          const t = at(dates, d, s);
          const v = 120 + ((s + d) % 40);
          out.push({ s, xml: rec(HR, STRAP, '', 'count/min', t, t, v) });
          if (counting) count(HR, d, STRAP, v);
        }
        return out;
      }
      case 'steps-phone':
      case 'steps-watch': {
        const phone = stream === 'steps-phone';
        const step = phone ? 300 : 180;
        for (let s = 7 * 3600 + (phone ? 0 : 45); s < 23 * 3600; s += step) {
          const v = 10 + Math.floor(r() * (phone ? 400 : 300));
          const xml = rec(STEPS, phone ? PHONE : WATCH, phone ? PHONE_DEVICE : WATCH_DEVICE, 'count', at(dates, d, s), at(dates, d, s + step - 1), v);
          out.push({ s, xml });
          if (counting) count(STEPS, d, phone ? PHONE : WATCH, v);
        }
        return out;
      }
      case 'energy': {
        for (let s = 0; s < 86_400; s += 60) {
          const v = Math.round(r() * 3000) / 1000;
          out.push({ s, xml: rec(ENERGY, WATCH, WATCH_DEVICE, 'Cal', at(dates, d, s), at(dates, d, s + 59), v.toFixed(3)) });
          if (counting) count(ENERGY, d, WATCH, v);
        }
        return out;
      }
      case 'bp': {
        // Morning and evening readings: the correlation with its two members, and the members
        // again as top-level records (Apple writes both; the importer stores each sample once).
        for (const s of [7 * 3600 + 900, 21 * 3600 + 1800]) {
          const t = at(dates, d, s);
          const sys = 110 + ((d * 7 + s) % 30);
          const dia = 70 + ((d * 3 + s) % 20);
          const member = (type: string, v: number) =>
            `   <Record type="${type}" sourceName="${CUFF}" unit="mmHg" creationDate="${t}" startDate="${t}" endDate="${t}" value="${v}"/>\n`;
          out.push({
            s,
            xml:
              `  <Correlation type="HKCorrelationTypeIdentifierBloodPressure" sourceName="${CUFF}" creationDate="${t}" startDate="${t}" endDate="${t}">\n` +
              `   <MetadataEntry key="HKWasUserEntered" value="0"/>\n${member(SYSTOLIC, sys)}${member(DIASTOLIC, dia)}  </Correlation>\n`,
          });
          out.push({ s, xml: rec(SYSTOLIC, CUFF, '', 'mmHg', t, t, sys) });
          out.push({ s, xml: rec(DIASTOLIC, CUFF, '', 'mmHg', t, t, dia) });
          if (counting) {
            count(SYSTOLIC, d, CUFF, sys);
            count(DIASTOLIC, d, CUFF, dia);
          }
        }
        return out;
      }
      case 'stand': {
        for (let h = 7; h < 23; h++) {
          out.push({
            s: h * 3600,
            xml: `  <Record type="${STAND}" sourceName="${WATCH}" sourceVersion="10.1" device="${WATCH_DEVICE}" creationDate="${at(dates, d, (h + 1) * 3600)}" startDate="${at(dates, d, h * 3600)}" endDate="${at(dates, d, (h + 1) * 3600 - 1)}" value="HKCategoryValueAppleStandHour${h % 5 === 0 ? 'Idle' : 'Stood'}"/>\n`,
          });
        }
        return out;
      }
      case 'sleep': {
        let s = 3600;
        out.push({
          s,
          xml: `  <Record type="${SLEEP}" sourceName="${WATCH}" startDate="${at(dates, d, s)}" endDate="${at(dates, d, s + 7 * 3600)}" value="HKCategoryValueSleepAnalysisInBed"/>\n`,
        });
        for (const st of ['AsleepCore', 'AsleepDeep', 'AsleepCore', 'AsleepREM', 'Awake', 'AsleepCore']) {
          out.push({
            s,
            xml: `  <Record type="${SLEEP}" sourceName="${WATCH}" startDate="${at(dates, d, s)}" endDate="${at(dates, d, s + 70 * 60)}" value="HKCategoryValueSleepAnalysis${st}"/>\n`,
          });
          s += 70 * 60;
        }
        return out;
      }
    }
  };

  const others = (d: number): Line[] => {
    const s = 18 * 3600;
    return [
      {
        s,
        xml:
          `  <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="45" durationUnit="min" totalDistance="7.1" totalDistanceUnit="km" totalEnergyBurned="480" totalEnergyBurnedUnit="Cal" sourceName="${WATCH}" startDate="${at(dates, d, s)}" endDate="${at(dates, d, s + 2700)}">\n` +
          `   <MetadataEntry key="HKIndoorWorkout" value="0"/>\n   <WorkoutEvent type="HKWorkoutEventTypePause" date="${at(dates, d, s + 600)}"/>\n  </Workout>\n`,
      },
      {
        s: 86_399,
        xml: `  <ActivitySummary dateComponents="${dates[d]}" activeEnergyBurned="612.5" activeEnergyBurnedGoal="500" activeEnergyBurnedUnit="Cal" appleExerciseTime="52" appleExerciseTimeGoal="30" appleStandHours="13" appleStandHoursGoal="12"/>\n`,
      },
    ];
  };

  const clinical = `  <ClinicalRecord type="HKClinicalTypeIdentifierLabResultRecord" identifier="Observation-1" sourceName="Example Hospital" sourceURL="https://fhir.example.org/api/FHIR/R4" fhirVersion="4.0.1" receivedDate="${at(dates, days - 1, 43_200)}" resourceFilePath="/clinical-records/Observation-1.json"/>\n`;

  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  let bytes = 0;
  let parts: string[] = [];
  let held = 0;
  const flush = async () => {
    const s = parts.join('');
    parts = [];
    held = 0;
    bytes += Buffer.byteLength(s);
    if (!out.write(s)) await once(out, 'drain');
  };
  const emit = async (s: string) => {
    parts.push(s);
    held += s.length;
    if (held >= 1 << 20) await flush();
  };
  const emitLines = async (lines: Line[]) => {
    for (const l of lines) {
      if (l.xml.startsWith('  <Record')) records++;
      await emit(l.xml);
    }
  };

  await emit(
    `<?xml version="1.0" encoding="UTF-8"?>\n${APPLE_DTD}\n<HealthData locale="en_GB">\n <ExportDate value="${at(dates, days, 36_000)}"/>\n` +
      ` <Me HKCharacteristicTypeIdentifierDateOfBirth="1980-05-04" HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale" HKCharacteristicTypeIdentifierBloodType="HKBloodTypeAPositive" HKCharacteristicTypeIdentifierFitzpatrickSkinType="HKFitzpatrickSkinTypeNotSet"/>\n`,
  );

  const dayIdx = Array.from({ length: days }, (_, d) => d);
  const byTime = (a: Line, b: Line) => a.s - b.s;
  if (spec.order === 'interleaved') {
    for (const d of dayIdx) {
      const lines: Line[] = [];
      for (const st of STREAMS) for (const l of streamDay(st, d, true)) lines.push(l);
      for (const l of others(d)) lines.push(l);
      // A stable sort: records of one moment keep their stream order.
      lines.sort(byTime);
      await emitLines(lines);
    }
    await emit(clinical);
  } else if (spec.order === 'grouped') {
    // Apple's order: by type; within a type by time, the type's sources mixed.
    const groups: Stream[][] = [['hr-watch', 'hr-strap'], ['steps-phone', 'steps-watch'], ['energy'], ['stand'], ['sleep']];
    for (const g of groups) {
      for (const d of dayIdx) {
        const lines = g.flatMap((st) => streamDay(st, d, true));
        if (g.length > 1) lines.sort(byTime);
        await emitLines(lines);
      }
    }
    // Blood pressure: the members as records grouped by type, then the correlations.
    for (const which of [SYSTOLIC, DIASTOLIC, 'Correlation']) {
      for (const d of dayIdx)
        await emitLines(
          streamDay('bp', d, which === SYSTOLIC).filter((l) => l.xml.startsWith(which === 'Correlation' ? '  <Correlation' : `  <Record type="${which}"`)),
        );
    }
    for (const d of dayIdx) await emit(others(d)[0]!.xml);
    for (const d of dayIdx) await emit(others(d)[1]!.xml);
    await emit(clinical);
  } else {
    // Grouped by type, one run per source, days shuffled; one day of phone steps comes twice.
    const r = rng(seed);
    const shuffled = () => {
      const a = dayIdx.slice();
      for (let i = a.length - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [a[i], a[j]] = [a[j]!, a[i]!];
      }
      return a;
    };
    for (const st of STREAMS) {
      for (const d of shuffled()) await emitLines(streamDay(st, d, true));
      if (st === 'steps-phone') {
        const again = streamDay(st, Math.floor(days / 2), false);
        duplicates += again.length;
        await emitLines(again);
      }
    }
    for (const d of shuffled()) await emitLines(others(d));
    await emit(clinical);
  }
  await emit('</HealthData>\n');
  await flush();
  out.end();
  await once(out, 'finish');

  const types = [HR, STEPS, ENERGY, SYSTOLIC, DIASTOLIC];
  return {
    path,
    bytes,
    days,
    records,
    duplicates,
    from: dates[0]!,
    to: dates[days - 1]!,
    types,
    expectedDays(type: string) {
      const rows: Array<{ date: string; count: number; sum: number }> = [];
      for (let d = 0; d < days; d++) {
        const m = stats.get(`${type}\u0000${dates[d]}`);
        if (!m) continue;
        if (isCumulative(type) && m.size > 1) {
          // The best single source by sum (ties: the smaller name), as computeStats picks.
          let best: [string, SourceDay] | undefined;
          for (const e of m) if (!best || e[1].sum > best[1].sum || (e[1].sum === best[1].sum && e[0] < best[0])) best = e;
          rows.push({ date: dates[d]!, count: best![1].count, sum: best![1].sum });
        } else {
          let count = 0;
          let sum = 0;
          for (const e of m.values()) {
            count += e.count;
            sum += e.sum;
          }
          rows.push({ date: dates[d]!, count, sum });
        }
      }
      return rows;
    },
    distinct(type: string) {
      let n = 0;
      for (const [k, m] of stats) if (k.startsWith(`${type}\u0000`)) for (const e of m.values()) n += e.count;
      return n;
    },
  };
}
