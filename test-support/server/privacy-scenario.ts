/**
 * A vault with real users' health data, written through the HTTP API only (so the same steps run
 * against older versions of the server, see fixtures/vault-v1/build.ts): the US Core and Synthea
 * FHIR samples, two Apple Health exports (one a real sample zipped with an extra archive entry,
 * one with category samples: sexual activity, menstrual flow, pregnancy tests), a Fitbit archive,
 * notes with lab values and dates, and a failed import. `secrets` lists what must never appear in
 * a database copy; `snapshot` is what the API returns for it, to compare across versions.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { Decrypter } from 'age-encryption';
import type { FastifyInstance } from 'fastify';
import tar from 'tar-stream';
import { generateAgeIdentity } from '../../crypto/age.js';
import { SLEEP_LOG_SAMPLE, buildZip } from '../integrations/fitbit/archive-writer.js';
import { multipart } from './harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FHIR_DIR = path.join(ROOT, 'integrations/fhir/fixtures');
const APPLE_DIR = path.join(ROOT, 'integrations/apple-health/fixtures');

type Headers = Record<string, string>;
interface Job {
  id: string;
  kind: string;
  status: string;
  result?: { imported: Record<string, number> };
  error?: string;
}

/** Archive entries whose names must never reach the database. */
export const ENTRY_NAMES = [
  'apple_health_export/workout-routes/route_Lakeshore-Canary-Loop.gpx',
  'Takeout/Fitbit/Global Export Data/journal-Wildflower-Canary.json',
  'Takeout/Fitbit/Global Export Data/steps-2024-03-10.json',
  'Takeout/Fitbit/Physical Activity_GoogleData/steps_2024-03-01.csv',
];

const CATEGORY_TYPES = ['HKCategoryTypeIdentifierSexualActivity', 'HKCategoryTypeIdentifierMenstrualFlow', 'HKCategoryTypeIdentifierPregnancyTestResult'];

function categoryExport(): string {
  const rec = (type: string, value: string, at: string) =>
    `  <Record type="${type}" sourceName="Jane’s iPhone" sourceVersion="17.1" creationDate="${at}" startDate="${at}" endDate="${at}" value="${value}"/>\n`;
  const hr = (v: number, at: string) =>
    `  <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Jane’s Apple Watch" sourceVersion="10.1" unit="count/min" creationDate="${at}" startDate="${at}" endDate="${at}" value="${v}"/>\n`;
  const body =
    rec(CATEGORY_TYPES[0]!, 'HKCategoryValueNotApplicable', '2026-05-02 22:10:00 +0100') +
    rec(CATEGORY_TYPES[1]!, 'HKCategoryValueMenstrualFlowMedium', '2026-05-03 08:00:00 +0100') +
    rec(CATEGORY_TYPES[1]!, 'HKCategoryValueMenstrualFlowLight', '2026-05-04 08:00:00 +0100') +
    rec(CATEGORY_TYPES[2]!, 'HKCategoryValuePregnancyTestResultNegative', '2026-05-20 07:30:00 +0100') +
    hr(61, '2026-05-03 09:00:00 +0100') +
    hr(74, '2026-05-03 18:00:00 +0100');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_GB">\n <ExportDate value="2026-07-01 10:00:00 +0100"/>\n${body}</HealthData>\n`;
}

const json = (v: unknown) => JSON.stringify(v);
function fitbitArchive(): Buffer {
  return buildZip([
    { name: ENTRY_NAMES[3]!, data: 'timestamp,steps,data source\n2024-03-10T04:30:00Z,40,Charge 6\n2024-03-10T05:30:00Z,10,Charge 6\n' },
    { name: ENTRY_NAMES[2]!, data: json([{ dateTime: '03/10/24 04:30:00', value: '40' }]) },
    { name: 'Takeout/Fitbit/Global Export Data/sleep-2024-03-09.json', data: json([SLEEP_LOG_SAMPLE]) },
    { name: ENTRY_NAMES[1]!, data: '{}' },
  ]);
}

export const NOTES = [
  {
    title: 'Lab results from the GP',
    text: 'HbA1c 9.1% on 17 Oct 2019, fasting glucose 7.4 mmol/L. Repeat in three months.',
    tags: ['diabetes'],
    occurredAt: '2019-10-17T16:43:00Z',
  },
  { title: 'Blood pressure diary', text: 'Morning reading 128/84 after coffee; evening 119/77.', tags: ['heart'], occurredAt: '2026-05-01T08:00:00Z' },
];

async function waitJob(app: FastifyInstance, headers: Headers, id: string): Promise<Job> {
  const end = Date.now() + 120_000;
  for (;;) {
    const job = (await app.inject({ method: 'GET', url: `/api/jobs/${id}`, headers })).json() as Job;
    if (job.status === 'done' || job.status === 'failed') return job;
    if (Date.now() > end) throw new Error(`job ${id} still ${job.status}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function accepted(app: FastifyInstance, headers: Headers, res: { statusCode: number; body: string; json(): unknown }): Promise<Job> {
  if (res.statusCode !== 202) throw new Error(`import refused: ${res.statusCode} ${res.body}`);
  return waitJob(app, headers, (res.json() as { jobId: string }).jobId);
}

const fhirFiles = () =>
  readdirSync(FHIR_DIR)
    .filter((f) => /\.(json|ndjson)$/.test(f))
    .sort();

/** Imports everything above into the signed-in user's vault; returns the jobs. */
export async function populate(app: FastifyInstance, headers: Headers): Promise<Job[]> {
  const jobs: Job[] = [];
  for (const f of fhirFiles()) {
    const type = f.endsWith('.ndjson') ? 'application/fhir+ndjson' : 'application/fhir+json';
    jobs.push(
      await accepted(
        app,
        headers,
        await app.inject({
          method: 'POST',
          url: '/api/import/fhir',
          headers: { ...headers, 'content-type': type },
          payload: readFileSync(path.join(FHIR_DIR, f)),
        }),
      ),
    );
  }
  const apple = async (name: string, data: Buffer) => {
    const mp = multipart({ name, type: name.endsWith('.zip') ? 'application/zip' : 'text/xml', data }, {}, headers);
    return accepted(app, headers, await app.inject({ method: 'POST', url: '/api/import/apple-health', headers: mp.headers, payload: mp.payload }));
  };
  jobs.push(
    await apple(
      'export.zip',
      buildZip([
        { name: 'apple_health_export/export.xml', data: readFileSync(path.join(APPLE_DIR, 'opendroid-hk_sampleexport-2.xml')) },
        { name: ENTRY_NAMES[0]!, data: '<?xml version="1.0"?><gpx version="1.1"></gpx>' },
      ]),
    ),
  );
  jobs.push(await apple('export.xml', Buffer.from(categoryExport())));
  const mp = multipart({ name: 'takeout.zip', type: 'application/zip', data: fitbitArchive() }, { timezone: 'America/New_York' }, headers);
  jobs.push(await accepted(app, headers, await app.inject({ method: 'POST', url: '/api/import/fitbit', headers: mp.headers, payload: mp.payload })));
  // A Fitbit archive with nothing it knows: fails with a message naming what it found.
  const bad = multipart(
    { name: 'bad.zip', type: 'application/zip', data: buildZip([{ name: 'Personal-Canary-Notes/Wildflower-diary.txt', data: 'x' }]) },
    {},
    headers,
  );
  jobs.push(await accepted(app, headers, await app.inject({ method: 'POST', url: '/api/import/fitbit', headers: bad.headers, payload: bad.payload })));
  for (const n of NOTES) {
    const res = await app.inject({ method: 'POST', url: '/api/items', headers, payload: { kind: 'note', ...n } });
    if (res.statusCode !== 201) throw new Error(`note refused: ${res.statusCode} ${res.body}`);
  }
  return jobs;
}

const codeSystems: Record<string, string> = {
  'http://loinc.org': '',
  'http://snomed.info/sct': 'snomed:',
  'http://www.nlm.nih.gov/research/umls/rxnorm': 'rxnorm:',
  'http://hl7.org/fhir/sid/cvx': 'cvx:',
};

/** What the imports above hold that a database copy must not show. */
export function secrets(): { codes: string[]; typeCodes: string[]; labValues: string[]; entryNames: string[] } {
  const codes = new Set<string>();
  const typeCodes = new Set<string>();
  const labValues = new Set<string>();
  const walk = (v: unknown, inObservation: boolean): void => {
    if (Array.isArray(v)) return v.forEach((x) => walk(x, inObservation));
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    const obs = inObservation || o.resourceType === 'Observation';
    if (typeof o.system === 'string' && typeof o.code === 'string' && o.system in codeSystems) {
      codes.add(o.code);
      typeCodes.add(`${codeSystems[o.system]}${o.code}`);
    }
    const q = o.valueQuantity as { value?: number; unit?: string } | undefined;
    if (obs && q && typeof q.value === 'number') {
      labValues.add(`"value":${q.value}`);
      labValues.add(`"value": ${q.value}`);
      if (q.unit) labValues.add(`${q.value} ${q.unit}`);
    }
    for (const x of Object.values(o)) walk(x, obs);
  };
  for (const f of fhirFiles()) {
    const text = readFileSync(path.join(FHIR_DIR, f), 'utf8');
    for (const doc of f.endsWith('.ndjson')
      ? text
          .split('\n')
          .filter((l) => l.trim())
          .map((l) => JSON.parse(l) as unknown)
      : [JSON.parse(text) as unknown])
      walk(doc, false);
  }
  const hk = new Set<string>(CATEGORY_TYPES);
  hk.add('HKQuantityTypeIdentifierHeartRate');
  hk.add('HKQuantityTypeIdentifierStepCount');
  for (const m of readFileSync(path.join(APPLE_DIR, 'opendroid-hk_sampleexport-2.xml'), 'utf8').matchAll(/type="(HK(?:Quantity|Category)TypeIdentifier\w+)"/g))
    hk.add(m[1]!);
  for (const n of NOTES) for (const m of n.text.matchAll(/\d+[./]\d+(?:%| mmol\/L)?/g)) labValues.add(m[0]);
  return { codes: [...codes], typeCodes: [...typeCodes, ...hk], labValues: [...labValues], entryNames: ENTRY_NAMES };
}

/** Series types the imports above store, for snapshots. */
export const SERIES_TYPES = [
  'HKQuantityTypeIdentifierHeartRate',
  'HKQuantityTypeIdentifierStepCount',
  'HKQuantityTypeIdentifierBodyMass',
  'HKQuantityTypeIdentifierWalkingSpeed',
  '8867-4',
  '29463-7',
  '85354-9',
];
/** Word queries (numbers are not searchable since 0011, by design). */
export const QUERIES = ['hemoglobin', 'allergy penicillin', 'diabetes', 'blood pressure', 'menstrual flow', 'steps', 'vaccine'];

/** Everything the API shows of the vault, in a stable order. */
export async function snapshot(app: FastifyInstance, headers: Headers) {
  const get = async (url: string) => {
    const res = await app.inject({ method: 'GET', url, headers });
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
    return res.json() as Record<string, unknown>;
  };
  const items: unknown[] = [];
  let cursor: string | null = null;
  do {
    const page = (await get(`/api/items?limit=100${cursor ? `&cursor=${cursor}` : ''}`)) as { items: unknown[]; nextCursor: string | null };
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  const types = [...new Set(items.map((i) => (i as { type: string | null }).type).filter((t): t is string => !!t))].sort();
  const byType: Record<string, string[]> = {};
  for (const t of types)
    byType[t] = ((await get(`/api/items?limit=100&type=${encodeURIComponent(t)}`)) as { items: Array<{ id: string }> }).items.map((i) => i.id);
  const series: Record<string, unknown> = {};
  for (const t of SERIES_TYPES) series[t] = await get(`/api/records/series?type=${encodeURIComponent(t)}`);
  const search: Record<string, unknown> = {};
  for (const q of QUERIES)
    search[q] = ((await get(`/api/search?q=${encodeURIComponent(q)}&limit=100`)) as { results: Array<{ item: { id: string } }> }).results.map((r) => r.item.id);
  const jobs = ((await get('/api/jobs?limit=100')) as { jobs: Job[] }).jobs
    .filter((j) => j.kind !== 'vault_upgrade')
    .map((j) => ({ id: j.id, kind: j.kind, status: j.status, result: j.result, error: j.error }));
  const tags = await get('/api/tags');
  return {
    export: await exported(app, headers),
    items: (items as Array<{ id: string; updatedAt?: string }>).map(({ updatedAt: _u, ...i }) => i).sort((a, b) => (a.id < b.id ? -1 : 1)),
    byType,
    series,
    search,
    jobs: jobs.sort((a, b) => (a.id < b.id ? -1 : 1)),
    tags,
  };
}

/** The export archive's entries, decrypted and parsed (JSON lines as arrays), without the manifest's export time. */
async function exported(app: FastifyInstance, headers: Headers): Promise<Record<string, unknown>> {
  const id = await generateAgeIdentity();
  const res = await app.inject({ method: 'POST', url: '/api/export', headers, payload: { recipient: id.recipient } });
  if (res.statusCode !== 200) throw new Error(`export: ${res.statusCode} ${res.body}`);
  const d = new Decrypter();
  d.addIdentity(id.identity);
  const plain = Buffer.from(await d.decrypt(new Uint8Array(res.rawPayload)));
  const out: Record<string, unknown> = {};
  const ex = tar.extract();
  Readable.from([plain]).pipe(ex);
  for await (const entry of ex) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const name = entry.header.name;
    if (name === 'manifest.json') {
      const { created: _c, ...rest } = JSON.parse(body) as Record<string, unknown>;
      out[name] = rest;
    } else if (name.endsWith('.jsonl')) {
      out[name] = body
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as unknown);
    } else {
      out[name] = `${body.length} bytes`;
    }
  }
  return out;
}
