import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { appleDate, buildZip, exportXml, recordXml, writeSyntheticExport } from '../../../test-support/integrations/apple-health/export-writer.js';
import { dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../../test-support/server/harness.js';

const FHIR_DIR = new URL('../../../integrations/fhir/fixtures/', import.meta.url);
const APPLE_DIR = new URL('../../../integrations/apple-health/fixtures/', import.meta.url);
const fhirFixture = (name: string) => readFileSync(new URL(name, FHIR_DIR));
const appleFixture = (name: string) => readFileSync(new URL(name, APPLE_DIR));

type Headers = Record<string, string>;
interface Job {
  id: string;
  kind: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  progress: { done: number; total?: number; unit: string };
  result?: { imported: Record<string, number> };
  error?: string;
}

async function waitJob(
  app: () => FastifyInstance,
  headers: Headers,
  id: string,
  until: (j: Job) => boolean = (j) => j.status === 'done' || j.status === 'failed',
  ms = 60_000,
): Promise<Job> {
  const end = Date.now() + ms;
  for (;;) {
    const res = await app().inject({ method: 'GET', url: `/api/jobs/${id}`, headers });
    expect(res.statusCode).toBe(200);
    const job = res.json() as Job;
    if (until(job)) return job;
    if (Date.now() > end) throw new Error(`job ${id} still ${job.status}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function importFhir(app: FastifyInstance, headers: Headers, body: Buffer | string, type = 'application/fhir+json'): Promise<Job> {
  const res = await app.inject({ method: 'POST', url: '/api/import/fhir', headers: { ...headers, 'content-type': type }, payload: body });
  expect(res.statusCode, res.body).toBe(202);
  return waitJob(() => app, headers, (res.json() as { jobId: string }).jobId);
}

async function importApple(app: FastifyInstance, headers: Headers, name: string, data: Buffer): Promise<Job> {
  const mp = multipart({ name, type: name.endsWith('.zip') ? 'application/zip' : 'text/xml', data }, {}, headers);
  const res = await app.inject({ method: 'POST', url: '/api/import/apple-health', headers: mp.headers, payload: mp.payload });
  expect(res.statusCode, res.body).toBe(202);
  return waitJob(() => app, headers, (res.json() as { jobId: string }).jobId);
}

const total = (j: Job) => Object.values(j.result?.imported ?? {}).reduce((a, b) => a + b, 0);

async function listItems(app: FastifyInstance, headers: Headers, query = '') {
  const res = await app.inject({ method: 'GET', url: `/api/items?limit=100${query}`, headers });
  expect(res.statusCode).toBe(200);
  return (
    res.json() as { items: Array<{ id: string; type: string | null; title: string; tags: string[]; fileId?: string; kind: string; occurredAt: string | null }> }
  ).items;
}

async function series(app: FastifyInstance, headers: Headers, type: string, from?: string, to?: string) {
  const q = new URLSearchParams({ type, ...(from ? { from } : {}), ...(to ? { to } : {}) });
  const res = await app.inject({ method: 'GET', url: `/api/records/series?${q}`, headers });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { type: string; unit: string | null; days: Array<{ date: string; count: number; min: number; max: number; mean: number; sum: number }> };
}

const HR = 'HKQuantityTypeIdentifierHeartRate';
const STEPS = 'HKQuantityTypeIdentifierStepCount';

/** An export with hand-computed statistics, including samples just after local midnight away from UTC. */
function knownExport(): string {
  const hr = (v: number, at: string) => recordXml(HR, 'count/min', v, 'Watch', at);
  return exportXml(
    // 2026-06-01 at +0100: 00:30:05 local is 2026-05-31 in UTC, and still belongs to June 1.
    hr(50, '2026-06-01 00:30:05 +0100') +
      hr(70, '2026-06-01 12:00:00 +0100') +
      hr(90, '2026-06-01 23:59:00 +0100') +
      hr(90, '2026-06-01 23:59:00 +0100') + // an exact duplicate: counted once
      // 2026-05-31 at -0500: 23:30 local is already June 1 in UTC.
      hr(100, '2026-05-31 23:30:00 -0500') +
      hr(60, '2026-05-31 00:00:01 -0500') +
      // Steps from two devices on one day: the best single source (the watch, 500) is the day.
      recordXml(STEPS, 'count', 100, 'iPhone', '2026-06-01 00:10:00 +0100', '2026-06-01 00:20:00 +0100') +
      recordXml(STEPS, 'count', 200, 'iPhone', '2026-06-01 09:00:00 +0100', '2026-06-01 09:10:00 +0100') +
      recordXml(STEPS, 'count', 500, 'Watch', '2026-06-01 09:00:00 +0100', '2026-06-01 09:30:00 +0100') +
      recordXml(STEPS, 'count', 42, 'iPhone', '2026-06-02 00:00:30 +0100', '2026-06-02 00:05:00 +0100'),
  );
}

for (const target of dbTargets()) {
  describe(`health imports (${target})`, () => {
    let server: TestServer;
    const app = () => server.app;

    beforeAll(async () => {
      server = await startTestServer(target);
    });
    afterAll(async () => {
      await server.dispose();
    });

    it('imports the FHIR samples as records with types, tags, series and linked files, and never twice', async () => {
      const sut = await signUp(app());
      const us = [
        'patient-example.json',
        'blood-pressure.json',
        'heart-rate.json',
        'weight.json',
        'observation-cbc-hemoglobin.json',
        'diagnosticreport-cbc.json',
        'condition-encounter-diagnosis-example1.json',
        'medicationrequest-self-tylenol.json',
        'allergyintolerance-example.json',
        'imm-1.json',
        'documentreference-episode-summary.json',
      ];
      const bundle = { resourceType: 'Bundle', type: 'collection', entry: us.map((f) => ({ resource: JSON.parse(fhirFixture(f).toString('utf8')) })) };
      const first = await importFhir(app(), sut.headers, JSON.stringify(bundle));
      expect(first.status, first.error).toBe('done');
      expect(first.kind).toBe('fhir');
      // Each resource once: a blood-pressure panel is one record (its components are its series), a hemoglobin one.
      expect(first.result!.imported).toMatchObject({ '85354-9': 1, '718-7': 1, 'snomed:39065001': 1, 'cvx:197': 1 });
      expect(first.result!.imported).not.toHaveProperty('8480-6');

      const synthea = ['AllergyIntolerance', 'Condition', 'DocumentReference', 'Immunization', 'MedicationRequest', 'Patient']
        .map((t) => fhirFixture(`${t}.augustus49-emmerich580.ndjson`).toString('utf8').trim())
        .join('\n');
      const nd = await importFhir(app(), sut.headers, synthea, 'application/fhir+ndjson');
      expect(nd.status, nd.error).toBe('done');
      expect(total(nd)).toBeGreaterThan(20);

      const bp = await listItems(app(), sut.headers, '&type=85354-9');
      expect(bp).toHaveLength(1);
      expect(bp[0]!.title).toBe('Blood pressure 109/44 mmHg');
      expect(bp[0]!.tags).toContain('vital-signs');
      expect(await listItems(app(), sut.headers, '&kind=record&tag=laboratory')).not.toHaveLength(0);
      for (const tag of ['condition', 'medication', 'allergy', 'immunization']) {
        expect((await listItems(app(), sut.headers, `&kind=record&tag=${tag}`)).length, tag).toBeGreaterThan(0);
      }
      const sys = await series(app(), sut.headers, '8480-6');
      expect(sys).toEqual({ type: '8480-6', unit: 'mm[Hg]', days: [{ date: '1999-07-02', count: 1, min: 109, max: 109, mean: 109, sum: 109 }] });
      expect((await series(app(), sut.headers, '8462-4')).days[0]!.sum).toBe(44);

      const [doc] = await listItems(app(), sut.headers, '&type=34133-9');
      expect(doc!.fileId).toBeDefined();
      const file = await app().inject({ method: 'GET', url: `/api/files/${doc!.fileId}`, headers: sut.headers });
      expect(file.statusCode).toBe(200);
      expect(file.rawPayload.length).toBeGreaterThan(1000);

      const countBefore = (await listItems(app(), sut.headers, '&kind=record')).length + (await listItems(app(), sut.headers, '&kind=document')).length;
      const again = await importFhir(app(), sut.headers, JSON.stringify(bundle));
      const againNd = await importFhir(app(), sut.headers, synthea, 'application/x-ndjson');
      expect([again.status, againNd.status]).toEqual(['done', 'done']);
      expect(total(again) + total(againNd)).toBe(0);
      const countAfter = (await listItems(app(), sut.headers, '&kind=record')).length + (await listItems(app(), sut.headers, '&kind=document')).length;
      expect(countAfter).toBe(countBefore);
      expect((await series(app(), sut.headers, '8480-6')).days[0]!.count).toBe(1);
    });

    it('answers daily statistics exactly from an Apple Health export, by local date, and merges a re-import', async () => {
      const sut = await signUp(app());
      const xml = knownExport();
      const job = await importApple(app(), sut.headers, 'export.zip', buildZip([{ name: 'apple_health_export/export.xml', data: xml }]));
      expect(job.status, job.error).toBe('done');
      expect(job.kind).toBe('apple_health');
      expect(job.result!.imported[HR]).toBe(5);
      expect(job.progress.done).toBe(job.progress.total);

      const hr = await series(app(), sut.headers, HR, '2026-05-01', '2026-06-30');
      expect(hr.unit).toBe('/min');
      expect(hr.days).toEqual([
        { date: '2026-05-31', count: 2, min: 60, max: 100, mean: 80, sum: 160 },
        { date: '2026-06-01', count: 3, min: 50, max: 90, mean: 70, sum: 210 },
      ]);
      expect((await series(app(), sut.headers, HR, '2026-06-01', '2026-06-01')).days.map((d) => d.date)).toEqual(['2026-06-01']);
      const steps = await series(app(), sut.headers, STEPS);
      expect(steps.days).toEqual([
        { date: '2026-06-01', count: 1, min: 500, max: 500, mean: 500, sum: 500 },
        { date: '2026-06-02', count: 1, min: 42, max: 42, mean: 42, sum: 42 },
      ]);

      // The same data again, as a bare export.xml with one new reading: only that one counts.
      const more = xml.replace('</HealthData>', recordXml(HR, 'count/min', 80, 'Watch', '2026-06-01 18:00:00 +0100') + '</HealthData>');
      const again = await importApple(app(), sut.headers, 'export.xml', Buffer.from(more));
      expect(again.status, again.error).toBe('done');
      expect(again.result!.imported).toEqual({ [HR]: 1 });
      expect((await series(app(), sut.headers, HR, '2026-06-01', '2026-06-01')).days).toEqual([
        { date: '2026-06-01', count: 4, min: 50, max: 90, mean: 72.5, sum: 290 },
      ]);
    });

    it('imports the real Apple Health sample exports, and a second time adds nothing', async () => {
      const sut = await signUp(app());
      for (const f of ['opendroid-hk_sampleexport.xml', 'opendroid-hk_sampleexport-2.xml']) {
        const first = await importApple(app(), sut.headers, 'export.xml', appleFixture(f));
        expect(first.status, first.error).toBe('done');
        expect(total(first)).toBeGreaterThan(0);
        const before = (await listItems(app(), sut.headers, '&source=apple_health')).length;
        const again = await importApple(app(), sut.headers, 'export.xml', appleFixture(f));
        expect(again.status, again.error).toBe('done');
        expect(total(again)).toBe(0);
        // As a zip, ClinicalRecords whose JSON is missing say so differently, but a stand-in never
        // replaces what is stored under its record's identity: nothing new.
        const zipped = await importApple(app(), sut.headers, 'export.zip', buildZip([{ name: 'apple_health_export/export.xml', data: appleFixture(f) }]));
        expect(zipped.status, zipped.error).toBe('done');
        expect(total(zipped)).toBe(0);
        expect((await listItems(app(), sut.headers, '&source=apple_health')).length).toBe(before);
      }
      const records = await listItems(app(), sut.headers, '&source=apple_health');
      expect(records.length).toBeGreaterThan(10);
      expect(records.some((r) => r.type?.startsWith('HKWorkoutActivityType'))).toBe(true);
    });

    it('fails hostile or broken uploads with a clear message, stores nothing, and stays healthy', async () => {
      const sut = await signUp(app());
      const good = knownExport();
      const cases: Array<[string, string, Buffer, RegExp]> = [
        [
          'entity bomb',
          'export.xml',
          Buffer.from(
            good
              .replace('<!DOCTYPE HealthData [', '<!DOCTYPE HealthData [\n<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">')
              .replace('sourceName="Watch"', 'sourceName="&lol2;"'),
          ),
          /entit/i,
        ],
        ['truncated XML', 'export.xml', Buffer.from(good.slice(0, Math.floor(good.length * 0.7))), /truncated|ends too early|not valid XML/i],
        ['corrupt zip', 'export.zip', Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.alloc(2000, 7)]), /zip/i],
        [
          'zip slip',
          'export.zip',
          buildZip([
            { name: 'apple_health_export/export.xml', data: good },
            { name: '../../evil.sh', data: 'echo owned' },
          ]),
          /unsafe|outside/i,
        ],
      ];
      for (const [what, name, data, message] of cases) {
        const job = await importApple(app(), sut.headers, name, data);
        expect(job.status, what).toBe('failed');
        expect(job.error, what).toMatch(message);
        expect(total(job), what).toBe(0);
      }
      expect((await app().inject({ method: 'GET', url: '/health' })).json()).toEqual({ status: 'ok' });
      expect(await listItems(app(), sut.headers)).toEqual([]);
      expect((await series(app(), sut.headers, HR)).days).toEqual([]);
      expect(await readdir(path.join(server.dataDir, 'imports', sut.user.id)).catch(() => [])).toEqual([]);
    });

    it("refuses other types with 415, asks for a session, and hides other users' jobs", async () => {
      const a = await signUp(app());
      const b = await signUp(app());
      const png = multipart({ name: 'photo.png', type: 'image/png', data: Buffer.from('\x89PNG\r\n\x1a\n0000000000000000') }, {}, a.headers);
      const res = await app().inject({ method: 'POST', url: '/api/import/apple-health', headers: png.headers, payload: png.payload });
      expect(res.statusCode).toBe(415);
      expect(
        (await app().inject({ method: 'POST', url: '/api/import/fhir', headers: { ...a.headers, 'content-type': 'text/plain' }, payload: 'hello' })).statusCode,
      ).toBe(415);
      expect(
        (await app().inject({ method: 'POST', url: '/api/import/fhir', headers: { ...a.headers, 'content-type': 'application/json' }, payload: 'hello' }))
          .statusCode,
      ).toBe(422);
      expect((await app().inject({ method: 'POST', url: '/api/import/fhir', headers: { 'content-type': 'application/json' }, payload: '{}' })).statusCode).toBe(
        401,
      );

      const job = await importFhir(app(), a.headers, fhirFixture('heart-rate.json'));
      expect(job.status).toBe('done');
      expect((await app().inject({ method: 'GET', url: `/api/jobs/${job.id}`, headers: b.headers })).statusCode).toBe(404);
      const list = await app().inject({ method: 'GET', url: '/api/jobs', headers: a.headers });
      expect((list.json() as { jobs: Job[] }).jobs.map((j) => j.id)).toEqual([job.id]);
      const bad = await importFhir(app(), a.headers, '{"resourceType": "Observation", "status": ');
      expect(bad.status).toBe('failed');
      expect(bad.error).toMatch(/not valid JSON/);
    });

    it('never writes imported content in clear to the database, the data directory or the logs', async () => {
      const sut = await signUp(app());
      const canary = 'Zanzibar7Quokka';
      const patient = JSON.parse(fhirFixture('patient-example.json').toString('utf8')) as { name: Array<{ family: string }> };
      for (const n of patient.name) n.family = `${canary}Family`;
      expect((await importFhir(app(), sut.headers, JSON.stringify(patient))).status).toBe('done');
      const xml = knownExport().replaceAll('sourceName="Watch"', `sourceName="${canary}Watch"`);
      expect((await importApple(app(), sut.headers, 'export.zip', buildZip([{ name: 'apple_health_export/export.xml', data: xml }]))).status).toBe('done');
      const items = await listItems(app(), sut.headers);
      expect(items.some((i) => i.title.includes(canary))).toBe(true);
      expect((await series(app(), sut.headers, HR)).days).toHaveLength(2);

      await server.stop();
      const dump = await server.dumpDatabase();
      const bytes = await server.dumpDataDir();
      await server.restart();
      expect(dump).toContain('series_chunks');
      expect(dump).not.toContain(canary);
      expect(bytes.includes(Buffer.from(canary))).toBe(false);
      expect(server.logs()).not.toContain(canary);
    });

    it('after a stop in the middle of a large import, resumes the job and counts nothing twice', async () => {
      const sut = await signUp(app());
      const file = path.join(tmpdir(), `cv-crash-${process.pid}-${target}.xml`);
      const gen = await writeSyntheticExport(file, 40 * 1024 * 1024);
      const data = readFileSync(file);
      const mp = multipart({ name: 'export.xml', type: 'text/xml', data }, {}, sut.headers);
      const res = await app().inject({ method: 'POST', url: '/api/import/apple-health', headers: mp.headers, payload: mp.payload });
      expect(res.statusCode).toBe(202);
      const id = (res.json() as { jobId: string }).jobId;
      // The first heartbeat (500 ms into the job) shows progress; stop there, well before the end.
      const mid = await waitJob(app, sut.headers, id, (j) => j.status !== 'queued' && (j.status !== 'running' || j.progress.done > 0));
      expect(mid.status).toBe('running');
      expect(mid.progress.done).toBeLessThan(mid.progress.total!);

      await server.restart();
      // The first signed-in request hands the job its keys again; it runs to the end.
      const done = await waitJob(app, sut.headers, id, (j) => j.status === 'done' || j.status === 'failed', 120_000);
      expect(done.status, done.error).toBe('done');
      expect(server.logs()).toContain('job interrupted by shutdown');
      expect(server.logs()).toContain('interrupted jobs will resume');
      const hr = await series(app(), sut.headers, HR);
      expect(hr.days).toHaveLength(gen.days);
      expect(hr.days.every((d) => d.count === 1440)).toBe(true);
      expect(done.result!.imported[HR]).toBe(1440 * gen.days);

      const again = await importApple(app(), sut.headers, 'export.xml', data);
      expect(again.status).toBe('done');
      expect(total(again)).toBe(0);
      expect((await series(app(), sut.headers, HR)).days.every((d) => d.count === 1440)).toBe(true);
      const { rm } = await import('node:fs/promises');
      await rm(file, { force: true });
    }, 240_000);

    it('imports a FHIR bundle whose one resource has an impossible date, and counts each resource once', async () => {
      const sut = await signUp(app());
      const hr = (id: string, when: string, value: number) => ({
        resourceType: 'Observation',
        id,
        status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
        code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
        effectiveDateTime: when,
        valueQuantity: { value, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
      });
      const bundle = {
        resourceType: 'Bundle',
        type: 'collection',
        entry: [
          { resource: hr('hr-1', '2024-03-01T08:00:00Z', 61) },
          { resource: hr('hr-2', '2024-03-01T09:00:00Z', 63) },
          { resource: hr('hr-bad', 'not-a-date', 99) },
          // A day February does not have: Date would read it as 1 March.
          { resource: hr('hr-feb-30', '2024-02-30T10:00:00Z', 98) },
          {
            resource: {
              resourceType: 'Condition',
              id: 'cond-bad',
              code: { coding: [{ system: 'http://snomed.info/sct', code: '38341003', display: 'Hypertension' }], text: 'Hypertension' },
              onsetDateTime: '2024-13-45',
            },
          },
        ],
      };
      const job = await importFhir(app(), sut.headers, JSON.stringify(bundle));
      expect(job.status, job.error).toBe('done');
      expect(job.result!.imported).toEqual({ '8867-4': 4, 'snomed:38341003': 1, 'records with an unreadable date (imported undated)': 3 });
      const days = await series(app(), sut.headers, '8867-4', '2024-02-01', '2024-03-31');
      expect(days.days).toEqual([{ date: '2024-03-01', count: 2, min: 61, max: 63, mean: 62, sum: 124 }]);
      const undated = (await listItems(app(), sut.headers)).filter((i) => i.occurredAt === null).map((i) => i.type);
      expect(undated.sort()).toEqual(['8867-4', '8867-4', 'snomed:38341003']);
    });

    it('converts the units mixed sources write on one day, leaves out what it cannot use, and keeps every day in one unit', async () => {
      const sut = await signUp(app());
      const TEMP = 'HKQuantityTypeIdentifierBodyTemperature';
      const WATER = 'HKQuantityTypeIdentifierDietaryWater';
      const GLUCOSE = 'HKQuantityTypeIdentifierBloodGlucose';
      const MASS = 'HKQuantityTypeIdentifierBodyMass';
      const first = exportXml(
        recordXml(TEMP, 'degC', 37, 'Thermometer', '2024-03-01 08:00:00 +0100') +
          recordXml(TEMP, 'degF', 98.6, 'Health app', '2024-03-01 09:00:00 +0100') +
          recordXml(TEMP, 'degF', 100.4, 'Health app', '2024-03-02 09:00:00 +0100') +
          recordXml(WATER, 'mL', 250, 'Water app', '2024-03-01 08:00:00 +0100') +
          recordXml(WATER, 'fl_oz_us', 8, 'Water app', '2024-03-01 09:00:00 +0100') +
          recordXml(GLUCOSE, 'mg/dL', 100, 'Meter', '2024-03-02 08:00:00 +0100') +
          recordXml(GLUCOSE, 'mmol&lt;180.1558800000541&gt;/L', 5.5, 'Other meter', '2024-03-02 09:00:00 +0100') +
          recordXml(MASS, 'kg', 70, 'Scale', '2024-03-02 08:00:00 +0100') +
          recordXml(MASS, 'st', 11, 'Old app', '2024-03-02 10:00:00 +0100') +
          // Left out: a unit that converts to nothing of its day's, and a value past a double.
          recordXml(MASS, 'furlong', 3, 'Odd app', '2024-03-02 11:00:00 +0100') +
          recordXml(MASS, 'kg', '1e400', 'Odd app', '2024-03-02 12:00:00 +0100'),
      );
      const job = await importApple(app(), sut.headers, 'export.xml', Buffer.from(first));
      expect(job.status, job.error).toBe('done');
      expect(job.result!.imported).toMatchObject({ [TEMP]: 3, [WATER]: 2, [GLUCOSE]: 2, [MASS]: 2, 'samples left out (unit or value not usable)': 2 });

      const temp = await series(app(), sut.headers, TEMP, '2024-03-01', '2024-03-02');
      expect(temp.unit).toBe('Cel');
      expect(temp.days.map((d) => [d.date, d.count, Math.round(d.mean * 100) / 100])).toEqual([
        ['2024-03-01', 2, 37],
        ['2024-03-02', 1, 38],
      ]);
      const water = await series(app(), sut.headers, WATER, '2024-03-01', '2024-03-01');
      expect(water.days[0]!.sum).toBeCloseTo(250 + 236.588, 2);
      const glucose = await series(app(), sut.headers, GLUCOSE, '2024-03-02', '2024-03-02');
      expect(glucose.unit).toBe('mg/dL');
      expect(glucose.days[0]!.min).toBeCloseTo(99.09, 2);
      const mass = await series(app(), sut.headers, MASS, '2024-03-02', '2024-03-02');
      expect(mass.days[0]!.count).toBe(2);
      expect(mass.days[0]!.max).toBeCloseTo(70, 0);

      // A later export of the same day in the other unit merges into it, converted.
      const later = await importApple(
        app(),
        sut.headers,
        'export.xml',
        Buffer.from(exportXml(recordXml(TEMP, 'degF', 97.7, 'Health app', '2024-03-01 20:00:00 +0100'))),
      );
      expect(later.status, later.error).toBe('done');
      expect(later.result!.imported).toEqual({ [TEMP]: 1 });
      const merged = await series(app(), sut.headers, TEMP, '2024-03-01', '2024-03-01');
      expect(merged.days.map((d) => [d.count, Math.round(d.min * 100) / 100])).toEqual([[3, 36.5]]);
    });
  });
}

describe('health import limits', () => {
  it('stops an import that runs past its time budget with a clear error, and stays healthy', async () => {
    // A budget of 1 ms per MB: no import of this file can finish inside it, whatever the machine.
    const server = await startTestServer('pglite', { IMPORT_BUDGET_BASE_S: '0', IMPORT_BUDGET_S_PER_MB: '0.001' });
    const file = path.join(tmpdir(), `cv-budget-${process.pid}.xml`);
    try {
      const sut = await signUp(server.app);
      await writeSyntheticExport(file, 16 * 1024 * 1024);
      const job = await importApple(server.app, sut.headers, 'export.xml', readFileSync(file));
      expect(job.status).toBe('failed');
      expect(job.error).toMatch(/^The import was stopped after 1 seconds?, the most this server allows for a file of this size/);
      expect(server.logs()).toContain('"code":"time_budget"');
      expect(server.logs()).not.toMatch(/"level":50/);
      expect((await server.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
      // Its input file is gone, as for any failed job.
      expect(await readdir(path.join(server.dataDir, 'imports', sut.user.id)).catch(() => [])).toEqual([]);
    } finally {
      const { rm } = await import('node:fs/promises');
      await rm(file, { force: true });
      await server.dispose();
    }
  }, 120_000);

  it('answers 413 for an upload over MAX_IMPORT_MB and keeps nothing', async () => {
    const server = await startTestServer('pglite', { MAX_IMPORT_MB: '1' });
    try {
      const sut = await signUp(server.app);
      const big = Buffer.from(exportXml(recordXml(HR, 'count/min', 60, 'W', appleDate(Date.UTC(2026, 0, 1), 60)).repeat(8000)));
      expect(big.length).toBeGreaterThan(1024 * 1024);
      const mp = multipart({ name: 'export.xml', type: 'text/xml', data: big }, {}, sut.headers);
      const res = await server.app.inject({ method: 'POST', url: '/api/import/apple-health', headers: mp.headers, payload: mp.payload });
      expect(res.statusCode).toBe(413);
      const fhir = await server.app.inject({
        method: 'POST',
        url: '/api/import/fhir',
        headers: { ...sut.headers, 'content-type': 'application/fhir+ndjson' },
        payload: big,
      });
      expect(fhir.statusCode).toBe(413);
      expect((await server.app.inject({ method: 'GET', url: '/api/jobs', headers: sut.headers })).json()).toEqual({ jobs: [] });
      expect(await readdir(path.join(server.dataDir, 'imports', sut.user.id)).catch(() => [])).toEqual([]);
    } finally {
      await server.dispose();
    }
  });
});
