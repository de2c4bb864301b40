import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportProgress, QuantitySample, RecordInput } from '../types.js';
import { ImportError } from './errors.js';
import { importAppleHealth, type FhirTransform } from './import.js';
import { stripControlChars } from './parse.js';
import { buildZip, exportXml, recordXml, type ZipEntrySpec } from '../../test-support/integrations/apple-health/export-writer.js';
import { openAppleHealthZip, unsafeEntryName } from './zip.js';

const FIXTURE = readFileSync(fileURLToPath(new URL('./fixtures/opendroid-hk_sampleexport.xml', import.meta.url)), 'utf8');
const SMALL = exportXml(recordXml('HKQuantityTypeIdentifierHeartRate', 'count/min', 61, 'W', '2026-06-01 08:00:00 +0100'));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cv-ah-zip-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
async function zipFile(entries: ZipEntrySpec[] | Buffer): Promise<string> {
  const path = join(dir, `z${n++}.zip`);
  await writeFile(path, Buffer.isBuffer(entries) ? entries : buildZip(entries));
  return path;
}

function collector() {
  const s: QuantitySample[] = [];
  const r: RecordInput[] = [];
  return { s, r, samples: (b: QuantitySample[]) => void s.push(...b), records: (b: RecordInput[]) => void r.push(...b) };
}

async function refusal(entries: ZipEntrySpec[] | Buffer, limits?: Parameters<typeof openAppleHealthZip>[1]): Promise<ImportError> {
  const path = await zipFile(entries);
  try {
    await importAppleHealth({ zipPath: path }, collector(), { limits });
  } catch (e) {
    expect(e).toBeInstanceOf(ImportError);
    return e as ImportError;
  }
  throw new Error('expected the zip to be refused');
}

/** A tiny stand-in for the FHIR transformer. */
const fakeFhir: FhirTransform = (resource, opts) => {
  const r = resource as { resourceType: string; id: string };
  if (r.resourceType === 'Explode') throw new Error('cannot read this');
  return {
    records: [
      {
        kind: 'record',
        source: opts?.source ?? 'fhir',
        type: `fhir:${r.resourceType}`,
        externalId: `${r.resourceType}/${r.id}`,
        externalVersion: '1',
        occurredAt: null,
        title: `${r.resourceType} ${r.id}`,
        text: '',
        tags: [],
        data: { resource: r },
      },
    ],
    samples: [],
  };
};

describe('export.zip', () => {
  it('imports export.xml and passes clinical-records JSON through the FHIR transformer', async () => {
    const clinical = (file: string, body: unknown): ZipEntrySpec => ({ name: `apple_health_export/clinical-records/${file}`, data: JSON.stringify(body) });
    const path = await zipFile([
      { name: 'apple_health_export/', data: '', method: 0 },
      { name: 'apple_health_export/export.xml', data: FIXTURE },
      { name: 'apple_health_export/export_cda.xml', data: '<ClinicalDocument/>' },
      clinical('Procedure-488D59AE-81D4-4597-8FBB-713DE1CEF228.json', { resourceType: 'Procedure', id: 'p1' }),
      clinical('Procedure-B4F159B1-E990-49D5-AEAD-CB6C01F99D08.json', { resourceType: 'Procedure', id: 'p2' }),
      clinical('Procedure-750A37FB-42CB-463A-BAAD-8730AE96FD1D.json', { resourceType: 'Explode', id: 'x' }),
      clinical('Immunization-FD9A852A-4601-494A-B97F-F5CF7A4082E4.json', { resourceType: 'Immunization', id: 'i1' }),
      { name: 'apple_health_export/clinical-records/DiagnosticReport-F011639A-7CDB-4E7F-B195-E4DFF6D2FB76.json', data: '{ not json' },
      // Patient-6221D445... is missing from the zip.
    ]);
    const sink = collector();
    const progress: ImportProgress[] = [];
    const res = await importAppleHealth({ zipPath: path }, sink, { fhir: fakeFhir, onProgress: (p) => progress.push(p) });
    expect(res.counts).toMatchObject({ Record: 5, Workout: 1, ActivitySummary: 17, ClinicalRecord: 6, clinicalMissing: 1, clinicalFailed: 2 });
    const clinicalRecords = sink.r.filter((r) => r.type.startsWith('fhir:'));
    expect(clinicalRecords.map((r) => r.title)).toEqual([
      'Procedure p1',
      'Procedure p2',
      'Procedure from Sutter Health (not included)',
      'Immunization i1',
      'Diagnostic report from Sutter Health (not included)',
      'Patient from Sutter Health (not included)',
    ]);
    expect(clinicalRecords[0]!.source).toBe('apple_health');
    expect(clinicalRecords[2]!.text).toContain('could not be read (cannot read this)');
    expect(progress.at(-1)).toEqual({ done: Buffer.byteLength(FIXTURE), total: Buffer.byteLength(FIXTURE), unit: 'bytes' });
  });

  it('uses the real FHIR transformer by default', async () => {
    const obs = {
      resourceType: 'Observation',
      id: 'hr-1',
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
      effectiveDateTime: '2026-06-01T08:00:00+01:00',
      valueQuantity: { value: 61, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
    };
    const xml = exportXml(
      `  <ClinicalRecord type="Observation" identifier="hr-1" sourceName="Clinic" sourceURL="https://example.invalid/Observation/hr-1" fhirVersion="4.0.1" receivedDate="2026-06-02 09:00:00 +0100" resourceFilePath="/clinical-records/Observation-1.json"/>\n`,
    );
    const path = await zipFile([
      { name: 'apple_health_export/export.xml', data: xml },
      { name: 'apple_health_export/clinical-records/Observation-1.json', data: JSON.stringify(obs) },
    ]);
    const sink = collector();
    const res = await importAppleHealth({ zipPath: path }, sink);
    expect(res.counts.clinicalMissing ?? 0).toBe(0);
    expect(res.counts.clinicalFailed ?? 0).toBe(0);
    const fromFhir = sink.r.filter((r) => r.type !== 'HKCharacteristics');
    expect(fromFhir.map((r) => [r.type, r.externalId, r.source])).toEqual([['8867-4', 'Observation/hr-1', 'apple_health']]);
    // The Observation's sample travels with it, to be stored (and counted) with its record.
    expect(fromFhir[0]!.samples).toEqual([expect.objectContaining({ type: '8867-4', unit: '/min', value: 61, localDate: '2026-06-01' })]);
    expect(sink.s).toEqual([]);
  });

  it('finds export.xml in other layouts and ignores the CDA document', async () => {
    const sink = collector();
    const root = await zipFile([
      { name: 'export_cda.xml', data: '<ClinicalDocument/>' },
      { name: 'export.xml', data: SMALL },
    ]);
    await importAppleHealth({ zipPath: root }, sink);
    expect(sink.s.map((s) => s.value)).toEqual([61]);
    // A localized name (Spanish "Exportar.xml") is used when there is no export.xml; its CDA twin is not.
    const localized = await zipFile([
      { name: 'apple_health_export/exportar_cda.xml', data: '<ClinicalDocument>' + 'x'.repeat(5000) + '</ClinicalDocument>' },
      { name: 'apple_health_export/Exportar.xml', data: SMALL },
    ]);
    const z = await openAppleHealthZip(localized);
    expect(z.xmlName).toBe('apple_health_export/Exportar.xml');
    z.close();
    const both = await openAppleHealthZip(
      await zipFile([
        { name: 'apple_health_export/Exportar.xml', data: SMALL + ' '.repeat(100) },
        { name: 'apple_health_export/export.xml', data: SMALL },
        { name: 'apple_health_export/workout-routes/route.xml', data: '<gpx/>' },
      ]),
    );
    expect(both.xmlName).toBe('apple_health_export/export.xml');
    both.close();
    // Zipped again from the folder's parent, with macOS's resource forks beside it.
    const rezipped = await zipFile([
      { name: '__MACOSX/Downloads/apple_health_export/._export.xml', data: 'resource fork' },
      { name: 'Downloads/apple_health_export/workout-routes/route_2026.xml', data: '<gpx/>' },
      { name: 'Downloads/apple_health_export/export.xml', data: SMALL },
    ]);
    const deep = await openAppleHealthZip(rezipped);
    expect(deep.xmlName).toBe('Downloads/apple_health_export/export.xml');
    deep.close();
    const deepSink = collector();
    await importAppleHealth({ zipPath: rezipped }, deepSink);
    expect(deepSink.s.map((s) => s.value)).toEqual([61]);
    // A workout route is never taken for the export.
    const routesOnly = await refusal([{ name: 'apple_health_export/workout-routes/route_2026.xml', data: '<gpx/>' }]);
    expect(routesOnly.code).toBe('not_apple_health');
    const none = await refusal([
      { name: 'apple_health_export/export_cda.xml', data: '<ClinicalDocument/>' },
      { name: 'photo.jpg', data: 'jpg' },
    ]);
    expect(none.code).toBe('not_apple_health');
    expect(none.message).toMatch(/no export\.xml/);
  });

  it('finds a localized export.xml zipped again from a parent folder, at any depth', async () => {
    const obs = { resourceType: 'Observation', id: 'o1' };
    const xml = exportXml(
      recordXml('HKQuantityTypeIdentifierHeartRate', 'count/min', 61, 'W', '2026-06-01 08:00:00 +0100') +
        `  <ClinicalRecord type="HKClinicalTypeIdentifierLabResultRecord" identifier="o1" sourceName="Clinic" fhirVersion="4.0.1" receivedDate="2026-06-02 09:00:00 +0100" resourceFilePath="/clinical-records/Observation-o1.json"/>\n`,
    );
    // A Spanish export, unzipped in Downloads and zipped again from there (the probe's layout).
    const spanish = await zipFile([
      { name: '__MACOSX/Downloads/apple_health_export/._Exportar.xml', data: 'resource fork' },
      { name: 'Downloads/apple_health_export/Exportar_cda.xml', data: '<ClinicalDocument>' + 'x'.repeat(5000) + '</ClinicalDocument>' },
      { name: 'Downloads/apple_health_export/workout-routes/route_2026.xml', data: '<gpx/>' },
      { name: 'Downloads/apple_health_export/Exportar.xml', data: xml },
      { name: 'Downloads/apple_health_export/clinical-records/Observation-o1.json', data: JSON.stringify(obs) },
    ]);
    const z = await openAppleHealthZip(spanish);
    expect(z.xmlName).toBe('Downloads/apple_health_export/Exportar.xml');
    z.close();
    const sink = collector();
    const res = await importAppleHealth({ zipPath: spanish }, sink, { fhir: fakeFhir });
    expect(sink.s.map((s) => s.value)).toEqual([61]);
    expect(res.counts.clinicalMissing ?? 0).toBe(0);
    expect(sink.r.filter((r) => r.type === 'fhir:Observation').map((r) => r.title)).toEqual(['Observation o1']);

    // A localized folder too, two levels down: the CDA twin beside it marks the main file.
    const twin = await openAppleHealthZip(
      await zipFile([
        { name: 'Usuarios/ana/exportación_de_salud/exportar_cda.xml', data: '<ClinicalDocument/>' },
        { name: 'Usuarios/ana/exportación_de_salud/exportar.xml', data: SMALL },
        { name: 'Usuarios/ana/exportación_de_salud/notas.xml', data: '<notes/>' },
      ]),
    );
    expect(twin.xmlName).toBe('Usuarios/ana/exportación_de_salud/exportar.xml');
    twin.close();

    // No CDA twin and no telling folder name: the one XML whose root is <HealthData> (read from
    // its first bytes only) is the export; a workout route beside it is not.
    const sniffed = await openAppleHealthZip(
      await zipFile([
        { name: 'a/b/Salud/workout-routes/route_2026.xml', data: '<?xml version="1.0"?>\n<gpx version="1.1"/>' },
        { name: 'a/b/Salud/notas.xml', data: '<?xml version="1.0"?>\n<notes>HealthData</notes>' },
        { name: 'a/b/Salud/Exportar.xml', data: SMALL },
      ]),
    );
    expect(sniffed.xmlName).toBe('a/b/Salud/Exportar.xml');
    sniffed.close();
    // Without a DTD (tools that rewrite an export drop it) the root element alone tells.
    const bare = await openAppleHealthZip(
      await zipFile([{ name: 'a/b/Salud/Exportar.xml', data: '<?xml version="1.0"?>\n<HealthData locale="es_ES">\n</HealthData>\n' }]),
    );
    expect(bare.xmlName).toBe('a/b/Salud/Exportar.xml');
    bare.close();

    // Only the first bytes are read to tell: a large export and a large other XML are left after
    // them, and the export is then read whole from its start.
    const many = Array.from({ length: 3000 }, (_, i) =>
      recordXml(
        'HKQuantityTypeIdentifierHeartRate',
        'count/min',
        50 + (i % 40),
        'W',
        `2026-06-01 ${String(Math.floor(i / 60) % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00 +0100`,
      ),
    ).join('');
    const bigOther = `<?xml version="1.0"?>\n<notes>${Array.from({ length: 20000 }, (_, i) => `<n i="${i * 7919}"/>`).join('')}</notes>`;
    const large = await zipFile([
      { name: 'a/b/Salud/notas.xml', data: bigOther },
      { name: 'a/b/Salud/Exportar.xml', data: exportXml(many) },
    ]);
    const largeSink = collector();
    await importAppleHealth({ zipPath: large }, largeSink);
    expect(largeSink.s).toHaveLength(3000);

    // Deeper XMLs that are not an export still get the clear refusal.
    const other = await refusal([
      { name: 'a/b/Salud/workout-routes/route_2026.xml', data: '<gpx/>' },
      { name: 'a/b/Salud/notas.xml', data: '<notes/>' },
    ]);
    expect(other.code).toBe('not_apple_health');
    expect(other.message).toMatch(/no export\.xml/);
  });

  it('picks the same export.xml whatever the entry order when two could be it', async () => {
    const a = { name: 'Descargas/apple_health_export/Exportar.xml', data: SMALL };
    const b = { name: 'Downloads/apple_health_export/Exportar.xml', data: SMALL };
    for (const entries of [
      [a, b],
      [b, a],
    ]) {
      const z = await openAppleHealthZip(await zipFile(entries));
      expect(z.xmlName).toBe('Descargas/apple_health_export/Exportar.xml');
      z.close();
    }
    // The larger wins over the name order: a copy cut short is the smaller one.
    const larger = await openAppleHealthZip(await zipFile([a, { ...b, data: SMALL + ' '.repeat(50) }]));
    expect(larger.xmlName).toBe('Downloads/apple_health_export/Exportar.xml');
    larger.close();
  });
});

describe('hostile and damaged zips', () => {
  it('refuses a corrupt zip', async () => {
    const e = await refusal(Buffer.from('PK\u0003\u0004 this is not really a zip file at all, just bytes'));
    expect(e.code).toBe('zip_invalid');
    expect(e.message).toMatch(/not a readable zip/);
    const good = buildZip([{ name: 'apple_health_export/export.xml', data: SMALL.repeat(1) }]);
    const cut = await refusal(good.subarray(0, good.length - 30));
    expect(cut.code).toBe('zip_invalid');
  });

  it('refuses a corrupt deflate stream inside a valid directory', async () => {
    const z = buildZip([{ name: 'apple_health_export/export.xml', data: SMALL.repeat(50) }]);
    z.fill(0xff, 30 + 'apple_health_export/export.xml'.length + 10, 30 + 'apple_health_export/export.xml'.length + 40);
    const e = await refusal(z);
    expect(['zip_invalid', 'xml_invalid']).toContain(e.code);
  });

  it('refuses zip-slip ("../evil"), absolute paths and drive letters', async () => {
    const slip = await refusal([
      { name: 'apple_health_export/export.xml', data: SMALL },
      { name: '../evil', data: 'x' },
    ]);
    expect(slip.code).toBe('zip_unsafe');
    expect(slip.message).toMatch(/"\.\.\/evil" points outside the archive/);
    const nested = await refusal([{ name: 'apple_health_export/../../evil.sh', data: 'x' }]);
    expect(nested.code).toBe('zip_unsafe');
    const abs = await refusal([
      { name: '/etc/cron.d/evil', data: 'x' },
      { name: 'apple_health_export/export.xml', data: SMALL },
    ]);
    expect(abs.code).toBe('zip_unsafe');
    expect(abs.message).toMatch(/absolute path/);
    const drive = await refusal([{ name: 'C:/Windows/evil.dll', data: 'x' }]);
    expect(drive.code).toBe('zip_unsafe');
    const backslash = await refusal([{ name: '..\\evil', data: 'x' }]);
    expect(backslash.code).toBe('zip_unsafe');
    expect(unsafeEntryName('apple_health_export/export.xml')).toBeNull();
    expect(unsafeEntryName('a/..b/c')).toBeNull();
  });

  it('refuses symlink entries', async () => {
    const e = await refusal([{ name: 'apple_health_export/export.xml', data: '/etc/passwd', method: 0, mode: 0o120777 }]);
    expect(e.code).toBe('zip_unsafe');
    expect(e.message).toMatch(/symbolic link/);
  });

  it('refuses an over-ratio entry (zip bomb) before decompressing it', async () => {
    const e = await refusal([{ name: 'apple_health_export/export.xml', data: Buffer.alloc(8 * 1024 * 1024, 0x20) }]);
    expect(e.code).toBe('zip_unsafe');
    expect(e.message).toMatch(/expands \d+ times .*zip bomb/);
    // The same entry passes with a higher ratio limit (and then fails as XML, not as a zip).
    const ok = await refusal([{ name: 'apple_health_export/export.xml', data: Buffer.alloc(8 * 1024 * 1024, 0x20) }], { maxRatio: 100_000 });
    expect(ok.code).toBe('xml_invalid');
  });

  it('refuses an entry whose data exceeds its declared size', async () => {
    const e = await refusal([{ name: 'apple_health_export/export.xml', data: SMALL, declaredSize: 100 }]);
    expect(e.code).toBe('zip_unsafe');
    expect(e.message).toMatch(/different amount of data than it declares/);
  });

  it('enforces the entry count and total size limits', async () => {
    const many = Array.from({ length: 12 }, (_, i) => ({ name: `apple_health_export/f${i}.txt`, data: 'x' }));
    const count = await refusal([...many, { name: 'apple_health_export/export.xml', data: SMALL }], { maxEntries: 10 });
    expect(count.code).toBe('too_large');
    expect(count.message).toMatch(/13 files, more than the 10/);
    const total = await refusal(
      [
        { name: 'apple_health_export/export.xml', data: SMALL },
        { name: 'apple_health_export/big.bin', data: Buffer.alloc(4096, 1), method: 0 },
      ],
      { maxTotalBytes: 2048 },
    );
    expect(total.code).toBe('too_large');
  });
});

describe('clinical-record amplification', () => {
  const ref = (i: number, file: string) =>
    `  <ClinicalRecord type="HKClinicalTypeIdentifierLabResultRecord" identifier="r${i}" sourceName="Clinic" fhirVersion="4.0.1" receivedDate="2026-06-02 09:00:00 +0100" resourceFilePath="/clinical-records/${file}"/>\n`;

  it('reads and transforms a clinical JSON file once, however many records name it', async () => {
    // ~24 MiB of JSON that deflates well below the per-entry ratio limit, named by 20 records:
    // every reference used to inflate, parse and transform the whole file again.
    const entries: string[] = [];
    let size = 0;
    for (let i = 0; size < 24 * 1024 ** 2; i++) {
      const e = `{"resource":{"resourceType":"Observation","id":"o${i}","status":"final","valueQuantity":{"value":${(i * 7919) % 100_003},"unit":"mg/dL"}}}`;
      entries.push(e);
      size += e.length + 1;
    }
    const json = `{"resourceType":"Bundle","type":"collection","entry":[${entries.join(',')}]}`;
    expect(json.length).toBeGreaterThan(24 * 1024 ** 2);
    const xml = exportXml(Array.from({ length: 20 }, (_, i) => ref(i, 'Bundle-1.json')).join(''));
    const path = await zipFile([
      { name: 'apple_health_export/export.xml', data: xml },
      { name: 'apple_health_export/clinical-records/Bundle-1.json', data: json },
    ]);
    let calls = 0;
    const spy: FhirTransform = (resource, opts) => {
      calls++;
      return {
        records: [
          {
            kind: 'record',
            source: opts?.source ?? 'fhir',
            type: 'fhir:Bundle',
            externalId: 'Bundle/1',
            externalVersion: '1',
            occurredAt: null,
            title: 'Bundle',
            text: '',
            tags: [],
            data: { n: (resource as { entry: unknown[] }).entry.length },
          },
        ],
        samples: [],
      };
    };
    const sink = collector();
    const res = await importAppleHealth({ zipPath: path }, sink, { fhir: spy });
    expect(calls).toBe(1);
    expect(res.counts).toMatchObject({ ClinicalRecord: 20, clinicalRepeated: 19 });
    expect(sink.r.filter((r) => r.type === 'fhir:Bundle')).toHaveLength(1);
  });

  it('stops an import whose clinical files inflate far past the upload size, with a clear error', async () => {
    // 80 distinct files of just under 1 MiB each (below the per-entry ratio check) that deflate to
    // almost nothing: together they ask for 80 MiB from a zip of well under 1 MiB.
    const files = Array.from({ length: 80 }, (_, i) => ({
      name: `apple_health_export/clinical-records/Observation-${i}.json`,
      data: `{"resourceType":"Observation","id":"o${i}","note":[{"text":"${' '.repeat(1024 ** 2 - 100)}"}]}`,
    }));
    const xml = exportXml(files.map((f, i) => ref(i, f.name.slice(f.name.lastIndexOf('/') + 1))).join(''));
    const zip = buildZip([{ name: 'apple_health_export/export.xml', data: xml }, ...files]);
    expect(zip.length).toBeLessThan(1024 ** 2);
    const e = await refusal(zip);
    expect(e.code).toBe('zip_unsafe');
    expect(e.message).toMatch(/clinical records in this zip expand to more than \d+ MB/);
    // An explicit budget applies the same way.
    const small = await refusal(
      [
        { name: 'apple_health_export/export.xml', data: exportXml(ref(1, 'A.json') + ref(2, 'B.json')) },
        { name: 'apple_health_export/clinical-records/A.json', data: `{"resourceType":"Observation","id":"a","note":"${'a'.repeat(600)}"}` },
        { name: 'apple_health_export/clinical-records/B.json', data: `{"resourceType":"Observation","id":"b","note":"${'b'.repeat(600)}"}` },
      ],
      { maxClinicalBytes: 1000 },
    );
    expect(small.code).toBe('zip_unsafe');
  });
});

describe('stripControlChars', () => {
  it('matches a byte-by-byte reference at every alignment', () => {
    const src = Buffer.alloc(4099);
    for (let i = 0; i < src.length; i++) src[i] = 32 + ((i * 7919) % 90);
    for (const p of [0, 1, 2, 3, 4, 5, 1000, 1001, 4095, 4098]) src[p] = p % 2 ? 0x0b : 0x01;
    src[17] = 0x0a;
    src[18] = 0x09;
    src[19] = 0x0d;
    for (let off = 0; off < 4; off++) {
      const b = src.subarray(off);
      const ref = Buffer.from([...b].filter((c) => c >= 0x20 || c === 9 || c === 10 || c === 13));
      expect(stripControlChars(b)).toEqual(ref);
    }
  });
});
