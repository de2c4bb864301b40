import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { QuantitySample, RecordInput } from '../types.js';
import { ImportError } from './errors.js';
import { BAIL, MORE, decodeAttrValue, newFastRecord, scanRecord } from './fast-record.js';
import { parseExportXml, type ParseResult } from './parse.js';
import { exportXml, recordXml } from '../../test-support/integrations/apple-health/export-writer.js';

// Differential tests: the fast path for plain <Record .../> tags must give exactly what the
// saxes-only path gives, on real exports and on generated ones cut into chunks anywhere.

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

type Outcome = { samples: QuantitySample[]; records: RecordInput[]; res?: ParseResult; error?: string };

async function run(bytes: Buffer, fastPath: boolean, cuts: number[] | number = bytes.length): Promise<Outcome> {
  async function* chunks() {
    if (typeof cuts === 'number') {
      for (let i = 0; i < bytes.length; i += cuts) yield bytes.subarray(i, i + cuts);
    } else {
      let at = 0;
      for (const c of [...cuts, bytes.length]) {
        yield bytes.subarray(at, c);
        at = c;
      }
    }
  }
  const samples: QuantitySample[] = [];
  const records: RecordInput[] = [];
  try {
    const res = await parseExportXml(
      chunks(),
      { samples: (b) => void samples.push(...b), records: (b) => void records.push(...b) },
      { fastPath, sampleBatch: 7, recordBatch: 3 },
    );
    return { samples, records, res };
  } catch (e) {
    expect(e).toBeInstanceOf(ImportError);
    return { samples, records, error: `${(e as ImportError).code}` };
  }
}

async function same(xml: string | Buffer, chunkings: Array<number[] | number> = []): Promise<Outcome> {
  const bytes = Buffer.isBuffer(xml) ? xml : Buffer.from(xml, 'utf8');
  const ref = await run(bytes, false);
  for (const c of [bytes.length, ...chunkings]) {
    // Same chunks on both sides: where ClinicalRecords land among records depends on chunking.
    const want = c === bytes.length ? ref : await run(bytes, false, c);
    const got = await run(bytes, true, c);
    expect(want.error, `chunks ${String(c)}`).toEqual(ref.error);
    expect(got.error, `chunks ${String(c)}`).toEqual(want.error);
    if (want.error === undefined) {
      expect(got.res, `chunks ${String(c)}`).toEqual(want.res);
      expect(got.samples, `chunks ${String(c)}`).toEqual(want.samples);
      expect(got.records, `chunks ${String(c)}`).toEqual(want.records);
    }
  }
  return ref;
}

/** A small deterministic PRNG so failures reproduce. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

const HR = 'HKQuantityTypeIdentifierHeartRate';
const SL = 'HKCategoryTypeIdentifierSleepAnalysis';

/** A generated export with varied attribute orders, references, odd shapes and nested children. */
function variedExport(seed: number, n: number): string {
  const rand = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const t = `2026-06-0${1 + (i % 3)} ${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:0${i % 10} +0100`;
    const attrs: Array<[string, string]> = [
      [
        'type',
        pick([
          HR,
          HR,
          HR,
          'HKQuantityTypeIdentifierBodyFatPercentage',
          'HKQuantityTypeIdentifierStepCount',
          SL,
          'HKCategoryTypeIdentifierAppleStandHour',
          'A&amp;B',
        ]),
      ],
      ['sourceName', pick(['Jane’s Apple Watch', 'Tom &amp; Jerry', 'a&lt;b&gt;c &quot;q&quot; &apos;', 'x&#x1F600;y&#233;&#10;&#9;z', '😀 emoji', 'plain'])],
      ['unit', pick(['count/min', '%', 'mmol&lt;180.15&gt;/L', 'Cal'])],
      ['startDate', t],
      ['endDate', pick([t, t.replace(' +0100', ' +0200'), 'bad date'])],
      ['value', pick(['60', '0.25', '1e2', '', 'abc', 'HKCategoryValueSleepAnalysisAsleepCore', 'HKCategoryValueSleepAnalysisInBed', '0x10', ' 7 '])],
      ['sourceVersion', '10.1'],
      ['device', '&lt;&lt;HKDevice: 0x283a1c0f0&gt;, name:Apple Watch&gt;'],
      ['creationDate', t],
    ];
    for (let k = attrs.length - 1; k > 0; k--) {
      const m = Math.floor(rand() * (k + 1));
      [attrs[k], attrs[m]] = [attrs[m]!, attrs[k]!];
    }
    const kept = attrs.filter(([name]) => rand() > (name === 'type' || name === 'value' ? 0.02 : 0.08));
    const sep = () => pick([' ', ' ', ' ', '\n    ', '\t', '  ']);
    const open = `<Record${kept.map(([k, v]) => `${sep()}${k}="${v}"`).join('')}`;
    const r = rand();
    if (r < 0.7) out.push(`  ${open}${pick(['/>', '/>', ' />'])}\n`);
    else if (r < 0.8) out.push(`  ${open}>\n   <MetadataEntry key="k" value="v&amp;w"/>\n  </Record>\n`);
    else if (r < 0.85)
      out.push(
        `  ${open}>\n   <HeartRateVariabilityMetadataList>\n    <InstantaneousBeatsPerMinute bpm="60" time="1:02:03.45 PM"/>\n   </HeartRateVariabilityMetadataList>\n  </Record>\n`,
      );
    else if (r < 0.88)
      out.push(
        `  <Correlation type="HKCorrelationTypeIdentifierBloodPressure" sourceName="Omron" startDate="${t}" endDate="${t}">\n   ${open}/>\n  </Correlation>\n`,
      );
    else if (r < 0.9) out.push(`  <!-- ${open}/> -->\n`);
    else if (r < 0.92) out.push(`  <Record type='${HR}' unit='count/min' startDate='${t}' endDate='${t}' value='61'/>\n`);
    else if (r < 0.94) out.push(`  <Record type = "${HR}" unit="count/min" startDate="${t}" endDate="${t}" value="62"/>\n`);
    else if (r < 0.96) out.push(`  <Record type="${HR}" unit="count/min" startDate="${t}" endDate="${t}" value="6\n3"/>\n`);
    else if (r < 0.98) out.push(`  <Record type="${HR}" ns:x="1" unit="count/min" startDate="${t}" endDate="${t}" value="64"/>\n`);
    else
      out.push(
        `  <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="31.2" durationUnit="min" sourceName="W" startDate="${t}" endDate="${t}">\n   <MetadataEntry key="HKIndoorWorkout" value="0"/>\n  </Workout>\n`,
      );
  }
  return exportXml(out.join(''));
}

function randomCuts(len: number, seed: number, count: number): number[] {
  const rand = rng(seed);
  return [...new Set(Array.from({ length: count }, () => 1 + Math.floor(rand() * (len - 1))))].sort((a, b) => a - b);
}

describe('fast Record path equals the saxes-only path', () => {
  it('on the real sample exports, whole and in small chunks', async () => {
    for (const f of ['opendroid-hk_sampleexport.xml', 'opendroid-hk_sampleexport-2.xml']) {
      const bytes = await readFile(`${FIXTURES}${f}`);
      const ref = await same(bytes, [1, 7, 64, 4093]);
      expect(ref.error).toBeUndefined();
      expect(ref.samples.length).toBeGreaterThan(0);
    }
  });

  it('on generated exports with varied attribute order, references, nested children and odd shapes', async () => {
    for (let seed = 1; seed <= 6; seed++) {
      const xml = variedExport(seed, 400);
      const bytes = Buffer.from(xml, 'utf8');
      const ref = await same(bytes, [1, 3, 1000, randomCuts(bytes.length, seed, 300)]);
      expect(ref.error).toBeUndefined();
      expect(ref.samples.length).toBeGreaterThan(50);
    }
  });

  it('decodes references in attribute values exactly as saxes', async () => {
    const xml = exportXml(
      `  <Record type="${HR}" sourceName="A &amp; B &lt;&gt; &quot;&apos; &#x1F600; &#233; &#xe9; &#9;&#10;&#13; end" unit="count/min" startDate="2026-06-01 08:00:00 +0100" endDate="2026-06-01 08:00:00 +0100" value="6&#48;"/>\n`,
    );
    const ref = await same(xml, [1, 2, 5]);
    expect(ref.samples).toEqual([expect.objectContaining({ sourceName: 'A & B <> "\' 😀 é é \t\n\r end', value: 60 })]);
    expect(decodeAttrValue('a&amp;b', 0, 7)).toBe('a&b');
    for (const bad of ['&xxe;', '&#0;', '&#x110000;', '&#X41;', '&#xD800;', '&#xFFFE;', '&amp', '&;', '&#;', '&#x;'])
      expect(decodeAttrValue(bad, 0, bad.length), bad).toBeNull();
  });

  it('fails the same way on malformed or hostile records', async () => {
    const rec = (attrs: string) => exportXml(`  <Record ${attrs}/>\n`);
    const ok = `type="${HR}" unit="count/min" startDate="2026-06-01 08:00:00 +0100" endDate="2026-06-01 08:00:00 +0100"`;
    const cases = [
      rec(`${ok} value="&xxe;"`),
      rec(`${ok} value="&#0;"`),
      rec(`${ok} value="6<0"`),
      rec(`${ok} value="60" value="61"`),
      rec(`${ok} device="a" device="b" value="60"`),
      rec(`${ok} value="60"device="x"`),
      rec(`${ok} value="60" /x`),
      rec(`${ok} value="\uFFFE"`),
      rec(`${ok} value="a&b"`),
      rec(`${ok} value="60"`).replace('</HealthData>\n', ''),
      rec(`${ok} value="60"`).replace('</HealthData>\n', ']]>'),
      `  ]]<Record ${ok} value="60"/>>`,
      rec(`${ok} value="60"`) + rec(`${ok} value="61"`),
      exportXml('').replace('<HealthData locale="en_GB">', '<HealthData locale="en_GB"/>') + `<Record ${ok} value="60"/>`,
      `<?xml version="1.0"?>\n<!DOCTYPE HealthData [\n <!ENTITY x "y">\n]>\n<HealthData locale="en">\n  <Record ${ok} value="60"/>\n</HealthData>\n`,
      // Records with children, taken by the fast path, whose children or end tag are broken.
      exportXml(`  <Record ${ok} value="60">\n   <MetadataEntry key="k" value="v"/>\n  </Recordx>\n`),
      exportXml(`  <Record ${ok} value="60">\n   <MetadataEntry key="k" value="&xxe;"/>\n  </Record>\n`),
      exportXml(`  <Record ${ok} value="60">\n   <MetadataEntry key="k" value="v"/>\n`).replace('</HealthData>\n', ''),
      exportXml(`  <Record ${ok} value="60">\n   <MetadataEntry key="k" value="v">\n  </Record>\n`),
    ];
    const codes: Array<string | undefined> = [];
    for (const xml of cases) {
      const ref = await same(xml, [1, 9]);
      codes.push(ref.error);
    }
    expect(codes.slice(0, 12).every((c) => c === 'xml_invalid')).toBe(true);
    expect(codes[14]).toBe('xml_entity');
    expect(codes.slice(15).every((c) => c === 'xml_invalid')).toBe(true);
  });

  it('refuses an entity-declaring DOCTYPE before accepting any record', async () => {
    const body = Array.from({ length: 100 }, (_, i) => recordXml(HR, 'count/min', 60 + i, 'W', '2026-06-01 08:00:00 +0100')).join('');
    const xml = `<?xml version="1.0"?>\n<!DOCTYPE HealthData [\n <!ENTITY x "y">\n]>\n<HealthData locale="en">\n${body}</HealthData>\n`;
    const got = await run(Buffer.from(xml), true, 64);
    expect(got.error).toBe('xml_entity');
    expect(got.samples).toEqual([]);
  });

  it('scanRecord reads the common shape and bails or waits otherwise', () => {
    const r = newFastRecord();
    const s = `<Record sourceVersion="1" type="T" sourceName="S" unit="u" creationDate="c" startDate="sd" endDate="ed" value="1"/>`;
    expect(scanRecord(s, 0, r)).toBe(s.length);
    expect(r).toMatchObject({ type: 'T', sourceName: 'S', unit: 'u', startDate: 'sd', endDate: 'ed', value: '1' });
    for (let k = 1; k < s.length; k++) expect(scanRecord(s.slice(0, k), 0, r)).toBe(MORE);
    // A tag with children is read too; `open` says saxes must see its children and end tag.
    expect(scanRecord(`<Record type="T">`, 0, r)).toBe(17);
    expect(r.open).toBe(true);
    expect(scanRecord(`<Record type="T" >`, 0, r)).toBe(18);
    expect(scanRecord(`<Record type="T"/>`, 0, r)).toBe(18);
    expect(r.open).toBe(false);
    expect(scanRecord(`<RecordX type="T"/>`, 0, r)).toBe(BAIL);
    expect(scanRecord(`<Record type='T'/>`, 0, r)).toBe(BAIL);
  });
});
