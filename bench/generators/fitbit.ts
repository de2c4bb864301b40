/**
 * Generates a Fitbit data export ("MyFitbitData/<name>/Physical Activity/...") of any size,
 * streamed to disk one file at a time: a classic `heart_rate-YYYY-MM-DD.json` per day with a
 * reading every 5 seconds (~1 MB a day, the bulk of every real archive) and a per-minute
 * `steps-YYYY-MM-DD.json`. Entries are stored, not deflated, so the archive's size is its data's
 * size and generating gigabytes costs no compression time.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { ZipStreamWriter } from '../../test-support/integrations/zip.js';

export interface FitbitSummary {
  path: string;
  bytes: number;
  days: number;
  /** Heart-rate readings written (all distinct). */
  heartRate: number;
  /** Non-zero step minutes written. */
  steps: number;
  from: string;
  to: string;
}

const DAY_MS = 86_400_000;
const T0 = Date.UTC(2019, 0, 1);
const p2 = (n: number) => (n < 10 ? `0${n}` : String(n));

export async function writeFitbitArchive(path: string, spec: { bytes?: number; days?: number }): Promise<FitbitSummary> {
  const perDay = 1_130_000;
  const days = spec.days ?? Math.max(1, Math.ceil((spec.bytes ?? 10_000_000) / perDay));
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  const zip = new ZipStreamWriter(out);
  const dir = 'MyFitbitData/Jane/Physical Activity/';
  let heartRate = 0;
  let steps = 0;
  const dates: string[] = [];
  for (let d = 0; d < days; d++) {
    const day = new Date(T0 + d * DAY_MS);
    const iso = day.toISOString().slice(0, 10);
    dates.push(iso);
    const us = `${p2(day.getUTCMonth() + 1)}/${p2(day.getUTCDate())}/${p2(day.getUTCFullYear() % 100)}`;
    const hr: string[] = [];
    for (let s = 0; s < 86_400; s += 5) {
      const t = `${us} ${p2(Math.floor(s / 3600))}:${p2(Math.floor((s % 3600) / 60))}:${p2(s % 60)}`;
      hr.push(`{"dateTime":"${t}","value":{"bpm":${55 + ((s * 7 + d) % 90)},"confidence":${(s >> 4) % 4}}}`);
    }
    heartRate += hr.length;
    await zip.add({ name: `${dir}heart_rate-${iso}.json`, data: `[${hr.join(',\n')}]`, method: 0 });
    const st: string[] = [];
    for (let m = 0; m < 1440; m++) {
      const v = m >= 7 * 60 && m < 22 * 60 ? (m * 13 + d) % 120 : 0;
      if (v > 0) steps++;
      st.push(`{"dateTime":"${us} ${p2(Math.floor(m / 60))}:${p2(m % 60)}:00","value":"${v}"}`);
    }
    await zip.add({ name: `${dir}steps-${iso}.json`, data: `[${st.join(',\n')}]`, method: 0 });
  }
  const bytes = await zip.end();
  out.end();
  await once(out, 'finish');
  return { path, bytes, days, heartRate, steps, from: dates[0]!, to: dates[days - 1]! };
}
