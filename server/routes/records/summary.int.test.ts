import { beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { dbTargets, signUp } from '../../../test-support/server/harness.js';
import { signedInSuite } from '../../../test-support/server/signed-in.js';
import { pdfText } from '../../../test-support/server/pdf.js';
import { bundle, fhirFixture, fhirNdjson, usCoreLab } from '../../../test-support/server/health-data.js';

type Headers = Record<string, string>;
type Res = Record<string, unknown> & { resourceType: string; id?: string };

async function importFhir(app: FastifyInstance, headers: Headers, body: string) {
  const res = await app.inject({ method: 'POST', url: '/api/import/fhir', headers: { ...headers, 'content-type': 'application/fhir+json' }, payload: body });
  expect(res.statusCode, res.body).toBe(202);
  const id = (res.json() as { jobId: string }).jobId;
  const end = Date.now() + 60_000;
  for (;;) {
    const job = (await app.inject({ method: 'GET', url: `/api/jobs/${id}`, headers })).json() as { status: string };
    if (job.status === 'done') return;
    if (job.status === 'failed' || Date.now() > end) throw new Error(`import ${job.status}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Every `reference` anywhere in a resource. */
function references(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) v.forEach((x) => references(x, out));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === 'reference' && typeof x === 'string') out.push(x);
      else references(x, out);
    }
  }
  return out;
}

/** Every Coding (an object with `code` inside a `coding` array). */
function codings(v: unknown, out: Array<Record<string, unknown>> = []): Array<Record<string, unknown>> {
  if (Array.isArray(v)) v.forEach((x) => codings(x, out));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === 'coding' && Array.isArray(x)) out.push(...(x as Array<Record<string, unknown>>));
      codings(x, out);
    }
  }
  return out;
}

describe.each(dbTargets())('patient summary on %s', (target) => {
  const sut = signedInSuite(target);
  const app = () => sut.app;
  const summary = (payload: unknown, headers: Headers = sut.headers) =>
    app().inject({ method: 'POST', url: '/api/summary', headers, payload: payload as Record<string, unknown> });

  beforeAll(async () => {
    await importFhir(
      app(),
      sut.headers,
      bundle([
        fhirFixture('patient-example.json'),
        fhirFixture('blood-pressure.json'),
        fhirFixture('observation-cbc-hemoglobin.json'),
        usCoreLab({ id: 'glu-1', loinc: '2345-7', display: 'Glucose', value: 131, unit: 'mg/dL', date: '2024-06-02', low: 70, high: 99, interpretation: 'H' }),
        ...fhirNdjson('MedicationRequest.augustus49-emmerich580.ndjson'),
        ...fhirNdjson('AllergyIntolerance.augustus49-emmerich580.ndjson'),
        ...fhirNdjson('Condition.augustus49-emmerich580.ndjson'),
        ...fhirNdjson('Immunization.augustus49-emmerich580.ndjson'),
      ]),
    );
  }, 120_000);

  it('FHIR: an IPS document Bundle whose sections resolve inside it', async () => {
    const res = await summary({
      sections: ['problems', 'medications', 'allergies', 'immunizations', 'results', 'vitals'],
      from: '1990-01-01',
      to: '2025-12-31',
      format: 'fhir',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="patient-summary-\d{4}-\d{2}-\d{2}\.json"$/);
    const b = res.json() as {
      resourceType: string;
      type: string;
      identifier: { system: string; value: string };
      timestamp: string;
      entry: Array<{ fullUrl: string; resource: Res }>;
    };
    expect(b).toMatchObject({ resourceType: 'Bundle', type: 'document' });
    expect(b.identifier.value).toMatch(/^urn:uuid:/);
    expect(Date.parse(b.timestamp)).not.toBeNaN();
    // Composition first, then the patient it is about.
    const [first, ...rest] = b.entry;
    const comp = first!.resource as Res & {
      type: unknown;
      subject: { reference: string };
      section: Array<{
        title: string;
        code: { coding: Array<{ system: string; code: string }> };
        entry?: Array<{ reference: string }>;
        text: { div: string };
        emptyReason?: unknown;
      }>;
    };
    expect(comp.resourceType).toBe('Composition');
    expect(comp.type).toEqual({ coding: [{ system: 'http://loinc.org', code: '60591-5', display: 'Patient summary Document' }] });
    const urls = new Map(b.entry.map((e) => [e.fullUrl, e.resource]));
    expect(urls.size).toBe(b.entry.length);
    for (const e of b.entry) expect(e.fullUrl).toBe(`urn:uuid:${e.resource.id}`);
    expect(urls.get(comp.subject.reference)).toMatchObject({ resourceType: 'Patient', name: [{ text: 'Amy V. Baxter PharmD' }], birthDate: '1987-02-20' });
    // Every reference anywhere resolves to an entry of this Bundle.
    for (const ref of references(b.entry.map((e) => e.resource))) expect(urls.has(ref), ref).toBe(true);
    // Every coding names its system.
    for (const c of codings(b.entry.map((e) => e.resource))) expect(typeof c.system, JSON.stringify(c)).toBe('string');
    // IPS sections by LOINC code, each with narrative; the chosen ones with their entries.
    const byCode = new Map(comp.section.map((s) => [s.code.coding[0]!.code, s]));
    expect([...byCode.keys()]).toEqual(['11450-4', '10160-0', '48765-2', '11369-6', '30954-2', '8716-3']);
    for (const s of comp.section) {
      expect(s.code.coding[0]!.system).toBe('http://loinc.org');
      expect(s.text.div).toMatch(/^<div xmlns="http:\/\/www.w3.org\/1999\/xhtml">/);
    }
    const kinds = (code: string) => (byCode.get(code)!.entry ?? []).map((r) => urls.get(r.reference)!.resourceType);
    expect(kinds('11450-4').length).toBeGreaterThan(0);
    expect(new Set(kinds('11450-4'))).toEqual(new Set(['Condition']));
    expect(new Set(kinds('10160-0'))).toEqual(new Set(['MedicationStatement']));
    expect(new Set(kinds('48765-2'))).toEqual(new Set(['AllergyIntolerance']));
    expect(new Set(kinds('11369-6'))).toEqual(new Set(['Immunization']));
    expect(new Set(kinds('30954-2'))).toEqual(new Set(['Observation']));
    expect(new Set(kinds('8716-3'))).toEqual(new Set(['Observation']));
    // Every resource after the Composition is referenced by a section or is the subject.
    const referenced = new Set([comp.subject.reference, ...comp.section.flatMap((s) => (s.entry ?? []).map((e) => e.reference))]);
    for (const e of rest) expect(referenced.has(e.fullUrl), e.fullUrl).toBe(true);
    const glucose = [...urls.values()].find((r) => JSON.stringify(r.code ?? '').includes('2345-7')) as Res & {
      valueQuantity: unknown;
      referenceRange: unknown;
      interpretation: unknown;
    };
    expect(glucose.valueQuantity).toEqual({ value: 131, unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' });
    expect(JSON.stringify(glucose.interpretation)).toContain('"H"');
    const bp = (byCode.get('8716-3')!.entry ?? []).map((r) => urls.get(r.reference)!).find((r) => JSON.stringify(r.code).includes('8480-6')) as Res & {
      valueQuantity: { value: number };
    };
    expect(bp.valueQuantity.value).toBe(109);
  });

  it('FHIR: required IPS sections left out are present and marked withheld', async () => {
    const res = await summary({ sections: ['immunizations'], format: 'fhir' });
    const b = res.json() as {
      entry: Array<{
        resource: Res & {
          section?: Array<{ code: { coding: Array<{ code: string }> }; entry?: unknown[]; emptyReason?: { coding: Array<{ code: string }> } }>;
        };
      }>;
    };
    const sections = b.entry[0]!.resource.section!;
    const byCode = new Map(sections.map((s) => [s.code.coding[0]!.code, s]));
    for (const code of ['11450-4', '10160-0', '48765-2']) {
      expect(byCode.get(code)!.entry).toBeUndefined();
      expect(byCode.get(code)!.emptyReason!.coding[0]!.code).toBe('withheld');
    }
    expect(byCode.get('11369-6')!.entry!.length).toBeGreaterThan(0);
    expect(byCode.has('30954-2')).toBe(false);
    expect(b.entry.filter((e) => e.resource.resourceType === 'Condition')).toHaveLength(0);
  });

  it('PDF: the chosen sections and nothing else, readable by pdf.js', async () => {
    const res = await summary({ sections: ['medications', 'allergies', 'results'], format: 'pdf' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="patient-summary-.*\.pdf"$/);
    expect(res.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    const text = await pdfText(res.rawPayload);
    expect(text).toContain('Patient summary');
    expect(text).toContain('Amy V. Baxter PharmD');
    expect(text).toContain('Medications');
    expect(text).toContain('Fexofenadine hydrochloride 30 MG Oral Tablet');
    expect(text).toContain('Allergies and intolerances');
    expect(text).toContain('Results');
    expect(text).toMatch(/131 mg\/dL/);
    expect(text).toMatch(/70–99 mg\/dL/);
    // Sections not chosen are not in the document at all.
    expect(text).not.toContain('Problems');
    expect(text).not.toContain('Immunizations');
    expect(text).not.toContain('Vital signs');
    const condition = fhirNdjson('Condition.augustus49-emmerich580.ndjson')[0]!.code as { text: string };
    expect(text).not.toContain(condition.text);
    const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
    const doc = await pdfjs.getDocument({ data: new Uint8Array(res.rawPayload), verbosity: 0 }).promise;
    expect(doc.numPages).toBeLessThanOrEqual(2);
    await doc.destroy();
  });

  it('a summary is audited (that it was made, not what it held) and leaves no plaintext on disk', async () => {
    await summary({ sections: ['problems'], format: 'pdf' });
    const dump = await sut.server.dumpDatabase();
    expect(dump).toMatch(/summary_created/);
    const disk = await sut.server.dumpDataDir();
    expect(disk.includes(Buffer.from('Fexofenadine'))).toBe(false);
    expect(disk.includes(Buffer.from('%PDF-'))).toBe(false);
    expect(sut.server.logs()).not.toContain('Fexofenadine');
  });

  it('bad requests answer with a code and a sentence', async () => {
    for (const payload of [
      { sections: [], format: 'pdf' },
      { sections: ['problems'], format: 'docx' },
      { sections: ['secrets'], format: 'pdf' },
      { sections: ['problems'], format: 'pdf', from: '2024-13-01' },
    ]) {
      const res = await summary(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect((res.json() as { error: { code: string; message: string } }).error.message).toBeTruthy();
    }
    const range = await summary({ sections: ['problems'], format: 'pdf', from: '2024-02-01', to: '2024-01-01' });
    expect(range.json()).toMatchObject({ error: { code: 'invalid_range' } });
    expect((await app().inject({ method: 'POST', url: '/api/summary', payload: { sections: ['problems'], format: 'pdf' } })).statusCode).toBe(401);
  });

  it('rate limits each signed-in user on their own, not everyone behind one address', async () => {
    const [a, b] = [await signUp(app()), await signUp(app())];
    const fhir = { sections: ['problems'], format: 'fhir' };
    for (let i = 0; i < 30; i++) expect((await summary(fhir, a.headers)).statusCode).toBe(200);
    expect((await summary(fhir, a.headers)).statusCode).toBe(429);
    // Same address (inject's 127.0.0.1), another account: was 429 too.
    expect((await summary(fhir, b.headers)).statusCode).toBe(200);
  });
});
