/**
 * Test and bench helpers (not used by the importer): export XML builders and a generator of
 * large synthetic exports; the zip writer is the shared one in test-support/integrations/zip.ts.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export { buildZip, type ZipEntrySpec } from '../zip.js';

/** A shortened copy of Apple's internal DTD (same constructs: comments, ELEMENT, ATTLIST). */
export const APPLE_DTD = `<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 11 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|ClinicalRecord)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record
  type          CDATA #REQUIRED
  unit          CDATA #IMPLIED
  value         CDATA #IMPLIED
  sourceName    CDATA #REQUIRED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT MetadataEntry EMPTY>
<!ATTLIST MetadataEntry
  key   CDATA #REQUIRED
  value CDATA #REQUIRED
>
]>`;

/** Wraps body elements into a complete export.xml. */
export function exportXml(body: string, dtd = APPLE_DTD): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n${dtd}\n<HealthData locale="en_GB">\n <ExportDate value="2026-07-01 10:00:00 +0100"/>\n` +
    ` <Me HKCharacteristicTypeIdentifierDateOfBirth="1980-05-04" HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale" HKCharacteristicTypeIdentifierBloodType="HKBloodTypeAPositive" HKCharacteristicTypeIdentifierFitzpatrickSkinType="HKFitzpatrickSkinTypeNotSet"/>\n` +
    `${body}</HealthData>\n`
  );
}

/** Formats epoch ms as Apple's "YYYY-MM-DD hh:mm:ss ±hhmm" at a fixed offset in minutes. */
export function appleDate(ms: number, offsetMin: number): string {
  const d = new Date(ms + offsetMin * 60000);
  const p = (n: number) => String(n).padStart(2, '0');
  const o = Math.abs(offsetMin);
  return (
    `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ` +
    `${offsetMin < 0 ? '-' : '+'}${p(Math.floor(o / 60))}${p(o % 60)}`
  );
}

/** One `<Record>` line. */
export function recordXml(
  type: string,
  unit: string,
  value: number | string,
  source: string,
  start: string,
  end = start,
  meta?: Record<string, string>,
): string {
  const open = `  <Record type="${type}" sourceName="${source}" sourceVersion="10.1" unit="${unit}" creationDate="${end}" startDate="${start}" endDate="${end}" value="${value}"`;
  if (!meta) return `${open}/>\n`;
  return `${open}>\n${Object.entries(meta)
    .map(([k, v]) => `   <MetadataEntry key="${k}" value="${v}"/>\n`)
    .join('')}  </Record>\n`;
}

const WATCH_DEVICE = '&lt;&lt;HKDevice: 0x283a1c0f0&gt;, name:Apple Watch, manufacturer:Apple Inc., model:Watch, hardware:Watch6,2, software:10.1&gt;';

/**
 * Writes a synthetic export.xml of at least `targetBytes`, shaped like a real one: records come
 * grouped by type and in time order; per day 1,440 heart-rate readings (every fourth with a
 * MetadataEntry), steps from both iPhone and Watch, active energy, a sleep night, stand hours,
 * one workout and the day's ActivitySummary. Returns the bytes and Record elements written.
 */
export async function writeSyntheticExport(path: string, targetBytes: number): Promise<{ bytes: number; records: number; days: number }> {
  const perDay = 1_035_000; // measured size of one generated day, to size the date range
  const days = Math.max(1, Math.ceil(targetBytes / perDay));
  const t0 = Date.UTC(2024, 0, 1) - 3600_000; // local midnight at +0100
  const off = 60;
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  let bytes = 0;
  let records = 0;
  let buf: string[] = [];
  let bufLen = 0;
  const emit = async (s: string) => {
    buf.push(s);
    bufLen += s.length;
    if (bufLen > 1 << 20) {
      const chunk = buf.join('');
      buf = [];
      bufLen = 0;
      bytes += Buffer.byteLength(chunk);
      if (!out.write(chunk)) await once(out, 'drain');
    }
  };
  await emit(exportXml('', APPLE_DTD).replace('</HealthData>\n', ''));
  const dayStart = (d: number) => t0 + d * 86_400_000;
  for (let d = 0; d < days; d++) {
    for (let m = 0; m < 1440; m++) {
      const t = appleDate(dayStart(d) + m * 60_000 + 7_000, off);
      const head = `  <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Jane’s Apple Watch" sourceVersion="10.1" device="${WATCH_DEVICE}" unit="count/min" creationDate="${t}" startDate="${t}" endDate="${t}" value="${60 + ((m * 7 + d) % 60)}"`;
      await emit(m % 4 === 0 ? `${head}>\n   <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="0"/>\n  </Record>\n` : `${head}/>\n`);
      records++;
    }
  }
  for (const src of ['Jane’s iPhone', 'Jane’s Apple Watch']) {
    for (let d = 0; d < days; d++) {
      for (let m = 0; m < 1440; m += 10) {
        const s = appleDate(dayStart(d) + m * 60_000, off);
        const e = appleDate(dayStart(d) + (m + 9) * 60_000, off);
        await emit(recordXml('HKQuantityTypeIdentifierStepCount', 'count', 40 + (m % 97), src, s, e));
        records++;
      }
    }
  }
  for (let d = 0; d < days; d++) {
    for (let m = 0; m < 1440; m++) {
      const s = appleDate(dayStart(d) + m * 60_000, off);
      const e = appleDate(dayStart(d) + m * 60_000 + 59_000, off);
      await emit(recordXml('HKQuantityTypeIdentifierActiveEnergyBurned', 'Cal', ((m % 13) / 10).toFixed(3), 'Jane’s Apple Watch', s, e));
      records++;
    }
  }
  for (let d = 0; d < days; d++) {
    const stages = ['AsleepCore', 'AsleepDeep', 'AsleepCore', 'AsleepREM', 'Awake', 'AsleepCore'];
    let t = dayStart(d) + 60 * 60_000; // 01:00 local
    await emit(
      `  <Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="Jane’s Apple Watch" startDate="${appleDate(t, off)}" endDate="${appleDate(t + 7 * 3600_000, off)}" value="HKCategoryValueSleepAnalysisInBed"/>\n`,
    );
    records++;
    for (const st of stages) {
      await emit(
        `  <Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="Jane’s Apple Watch" startDate="${appleDate(t, off)}" endDate="${appleDate(t + 70 * 60_000, off)}" value="HKCategoryValueSleepAnalysis${st}"/>\n`,
      );
      t += 70 * 60_000;
      records++;
    }
    for (let h = 7; h < 23; h++) {
      await emit(
        `  <Record type="HKCategoryTypeIdentifierAppleStandHour" sourceName="Jane’s Apple Watch" startDate="${appleDate(dayStart(d) + h * 3600_000, off)}" endDate="${appleDate(dayStart(d) + (h + 1) * 3600_000, off)}" value="HKCategoryValueAppleStandHourStood"/>\n`,
      );
      records++;
    }
  }
  for (let d = 0; d < days; d++) {
    const s = dayStart(d) + 18 * 3600_000;
    await emit(
      `  <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="31.2" durationUnit="min" totalDistance="5.2" totalDistanceUnit="km" totalEnergyBurned="320" totalEnergyBurnedUnit="Cal" sourceName="Jane’s Apple Watch" startDate="${appleDate(s, off)}" endDate="${appleDate(s + 1872_000, off)}">\n` +
        `   <MetadataEntry key="HKIndoorWorkout" value="0"/>\n   <WorkoutEvent type="HKWorkoutEventTypePause" date="${appleDate(s + 600_000, off)}"/>\n  </Workout>\n`,
    );
  }
  for (let d = 0; d < days; d++) {
    const date = appleDate(dayStart(d) + 12 * 3600_000, off).slice(0, 10);
    await emit(
      `  <ActivitySummary dateComponents="${date}" activeEnergyBurned="512.5" activeEnergyBurnedGoal="500" activeEnergyBurnedUnit="Cal" appleExerciseTime="41" appleExerciseTimeGoal="30" appleStandHours="16" appleStandHoursGoal="12"/>\n`,
    );
  }
  await emit('</HealthData>\n');
  const rest = buf.join('');
  bytes += Buffer.byteLength(rest);
  out.end(rest);
  await once(out, 'finish');
  return { bytes, records, days };
}
