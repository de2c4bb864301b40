import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import type { QuantitySample } from '../types.js';
import { mergeChunks, type DayChunk } from '../series/day-chunk.js';
import { createSeriesSink } from './import.js';
import { parseExportXml } from './parse.js';
import { exportXml, recordXml } from '../../test-support/integrations/apple-health/export-writer.js';

const HR = 'HKQuantityTypeIdentifierHeartRate';

/** A Record as Apple writes it, less the attributes named in `drop`. */
function recordWithout(drop: Array<'type' | 'unit'>, value: number, at: string, meta = false): string {
  const attrs: Array<[string, string]> = [
    ['type', HR],
    ['sourceName', 'Watch'],
    ['sourceVersion', '10.1'],
    ['unit', 'count/min'],
    ['creationDate', at],
    ['startDate', at],
    ['endDate', at],
    ['value', String(value)],
  ];
  const open = `  <Record ${attrs
    .filter(([k]) => !drop.includes(k as 'type' | 'unit'))
    .map(([k, v]) => `${k}="${v}"`)
    .join(' ')}`;
  return meta ? `${open}>\n   <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="1"/>\n  </Record>\n` : `${open}/>\n`;
}

/** Parses through the server's sink (day chunks, left-out count), merging re-emitted days as the store does. */
async function importThroughSink(xml: string, fastPath: boolean) {
  const chunks = new Map<string, DayChunk>();
  const sink = createSeriesSink({
    chunks(batch) {
      for (const c of batch) {
        const k = `${c.type} ${c.date}`;
        const prev = chunks.get(k);
        chunks.set(k, prev ? mergeChunks(prev, c) : c);
      }
    },
    records() {},
  });
  const res = await parseExportXml(Readable.from([xml]), sink, { fastPath });
  await sink.finish();
  return { counts: res.counts, leftOut: sink.leftOut, chunks: [...chunks.values()] };
}

const days = (chunks: DayChunk[]) => chunks.map((c) => ({ type: c.type, date: c.date, unit: c.unit, values: c.samples.map((s) => s[2]) }));

describe.each([true, false])('Apple quantity records that cannot be a sample (fast path %s)', (fastPath) => {
  it('leaves out and counts a record with no unit, which must not decide its day’s unit', async () => {
    const xml = exportXml(
      recordWithout(['unit'], 60, '2026-06-01 09:00:00 +0100') +
        recordXml(HR, 'count/min', 72, 'Watch', '2026-06-01 10:00:00 +0100') +
        recordXml(HR, 'count/min', 74, 'Watch', '2026-06-02 10:00:00 +0100') +
        recordWithout(['unit'], 61, '2026-06-02 11:00:00 +0100', true) +
        recordXml(HR, '', 62, 'Watch', '2026-06-02 12:00:00 +0100'),
    );
    const r = await importThroughSink(xml, fastPath);
    expect(days(r.chunks)).toEqual([
      { type: HR, date: '2026-06-01', unit: '/min', values: [72] },
      { type: HR, date: '2026-06-02', unit: '/min', values: [74] },
    ]);
    expect(r.leftOut).toBe(3);
    expect(r.counts.recordsWithoutUnit).toBe(3);
  });

  it('leaves out and counts a record with no type, never a sample of type ""', async () => {
    const xml = exportXml(recordWithout(['type'], 71, '2026-06-01 09:00:00 +0100') + recordXml(HR, 'count/min', 72, 'Watch', '2026-06-01 10:00:00 +0100'));
    const r = await importThroughSink(xml, fastPath);
    expect(days(r.chunks)).toEqual([{ type: HR, date: '2026-06-01', unit: '/min', values: [72] }]);
    expect(r.leftOut).toBe(1);
    expect(r.counts.recordsWithoutType).toBe(1);
  });

  it('still takes a sink that is not told of left-out records', async () => {
    const samples: QuantitySample[] = [];
    const xml = exportXml(recordWithout(['unit'], 60, '2026-06-01 09:00:00 +0100') + recordXml(HR, 'count/min', 72, 'Watch', '2026-06-01 10:00:00 +0100'));
    const res = await parseExportXml(Readable.from([xml]), { samples: (b) => void samples.push(...b), records() {} }, { fastPath });
    expect(samples.map((s) => [s.unit, s.value])).toEqual([['/min', 72]]);
    expect(res.counts.recordsWithoutUnit).toBe(1);
  });
});
