import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RecordInput } from '../types.js';
import {
  FhirInputError,
  MAX_RESOURCE_DEPTH,
  describeDate,
  instantMs,
  localDateOf,
  metricForLoinc,
  parseNdjson,
  transformAny,
  transformBundle,
  transformNdjson,
  transformNdjsonStream,
  transformResource,
  typeForCoding,
} from './transform.js';
import { htmlToText } from './util.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
/** A record's `Type/id` without the origin that qualifies it (see identity.test.ts). */
const bareId = (externalId: string) => externalId.replace(/@.*$/, '');
const json = (name: string): Record<string, unknown> => JSON.parse(fixture(name)) as Record<string, unknown>;
const one = (resource: unknown): RecordInput => {
  const r = transformResource(resource);
  expect(r.records).toHaveLength(1);
  return r.records[0] as RecordInput;
};

const US_CORE = [
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
const SYNTHEA = ['AllergyIntolerance', 'Condition', 'DocumentReference', 'Immunization', 'MedicationRequest', 'Patient'];

describe('dates', () => {
  it('describes dates as written, at the precision given', () => {
    expect(describeDate('2026-10-05')).toBe('5 Oct 2026');
    expect(describeDate('2026-10')).toBe('Oct 2026');
    expect(describeDate('2026')).toBe('2026');
    expect(describeDate('2020-11-19T12:46:57-08:00')).toBe('19 Nov 2020');
    expect(describeDate('2020-11-19T12:46:57-08:00', { time: true })).toBe('19 Nov 2020, 12:46');
    expect(describeDate('last spring')).toBe('last spring');
  });

  it('keeps the local date of the source and computes the UTC instant', () => {
    expect(localDateOf('2026-06-01T00:30:05+01:00')).toBe('2026-06-01');
    expect(localDateOf('1999-07-02')).toBe('1999-07-02');
    expect(localDateOf('1999-07')).toBeUndefined();
    expect(instantMs('2026-06-01T00:30:05+01:00')).toBe(Date.UTC(2026, 4, 31, 23, 30, 5));
    expect(instantMs('2005-07-06T11:45:33.250Z')).toBe(Date.UTC(2005, 6, 6, 11, 45, 33, 250));
    expect(instantMs('1999-07-02')).toBe(Date.UTC(1999, 6, 2));
    expect(instantMs('1999')).toBeUndefined();
  });
});

describe('codes', () => {
  it('writes LOINC bare, known systems with short prefixes, unknown systems hashed', () => {
    expect(typeForCoding({ system: 'http://loinc.org', code: '718-7' })).toBe('718-7');
    expect(typeForCoding({ system: 'http://snomed.info/sct', code: '44054006' })).toBe('snomed:44054006');
    expect(typeForCoding({ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '313782' })).toBe('rxnorm:313782');
    expect(typeForCoding({ system: 'http://hl7.org/fhir/sid/cvx', code: '140' })).toBe('cvx:140');
    expect(typeForCoding({ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'E11.9' })).toBe('icd10:E11.9');
    expect(typeForCoding({ system: 'http://www.ama-assn.org/go/cpt', code: '99213' })).toBe('cpt:99213');
    expect(typeForCoding({ system: 'http://hl7.org/fhir/sid/ndc', code: '0002-8215-01' })).toBe('ndc:0002-8215-01');
    const epic = typeForCoding({ system: 'urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.14', code: '1234' });
    expect(epic).toMatch(/^sys-[0-9a-f]{12}:1234$/);
    expect(epic).not.toContain('114350');
    expect(typeForCoding({ system: 'urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.14', code: '1234' })).toBe(epic);
    expect(typeForCoding({ code: '1234' })).toBeUndefined();
    expect(metricForLoinc('8867-4')).toEqual({ name: 'Heart rate', metric: 'heart_rate' });
  });
});

describe('US Core samples', () => {
  it('Patient', () => {
    const r = one(json('patient-example.json'));
    expect(r).toMatchObject({ kind: 'record', source: 'fhir', type: 'fhir:Patient', externalId: 'Patient/example', occurredAt: '1987-02-20' });
    expect(r.title).toBe('Patient: Amy V. Baxter PharmD');
    for (const s of ['born 20 Feb 1987', 'Previous names: Amy V. Shaw', '183 MOUNTAIN VIEW ST', 'Language: Spanish', 'Medical record number: 1032702']) {
      expect(r.text).toContain(s);
    }
    expect(r.tags).toEqual(['patient']);
    expect((r.data.resource as { id: string }).id).toBe('example');
  });

  it('Observation: blood pressure panel, with component samples', () => {
    const res = transformResource(json('blood-pressure.json'));
    const r = res.records[0] as RecordInput;
    expect(r).toMatchObject({ type: '85354-9', externalId: 'Observation/blood-pressure', occurredAt: '1999-07-02', title: 'Blood pressure 109/44 mmHg' });
    expect(r.tags).toContain('vital-signs');
    for (const s of [
      '2 Jul 1999',
      'Systolic blood pressure: 109 mmHg',
      'Diastolic blood pressure: 44 mmHg',
      'LOINC 8480-6',
      'LOINC 85354-9 (Blood pressure panel',
      'Status: final',
    ]) {
      expect(r.text).toContain(s);
    }
    const comps = r.data.components as Array<{ type: string; value: number; unit: string }>;
    expect(comps.map((c) => [c.type, c.value, c.unit])).toEqual([
      ['8480-6', 109, 'mm[Hg]'],
      ['8462-4', 44, 'mm[Hg]'],
    ]);
    const start = Date.UTC(1999, 6, 2);
    expect(res.samples).toEqual([
      { type: '8480-6', unit: 'mm[Hg]', startMs: start, endMs: start, localDate: '1999-07-02', value: 109, sourceName: 'Dr Ronald Bone' },
      { type: '8462-4', unit: 'mm[Hg]', startMs: start, endMs: start, localDate: '1999-07-02', value: 44, sourceName: 'Dr Ronald Bone' },
    ]);
  });

  it('Observation: heart rate and weight keep the UCUM code', () => {
    const hr = transformResource(json('heart-rate.json'));
    expect(hr.records[0]).toMatchObject({ type: '8867-4', title: 'Heart rate 44 beats/min', occurredAt: '1999-07-02' });
    expect(hr.records[0]?.data).toMatchObject({ value: 44, unit: '/min' });
    expect(hr.samples).toMatchObject([{ type: '8867-4', unit: '/min', value: 44, localDate: '1999-07-02' }]);
    const w = transformResource(json('weight.json'));
    expect(w.records[0]).toMatchObject({ type: '29463-7', title: 'Body weight 20.09414 kg' });
    expect(w.records[0]?.text).toContain('Body Weight');
    expect(w.samples).toMatchObject([{ type: '29463-7', unit: 'kg', value: 20.09414 }]);
  });

  it('Observation: lab with reference range and interpretation', () => {
    const res = transformResource(json('observation-cbc-hemoglobin.json'));
    const r = res.records[0] as RecordInput;
    expect(r).toMatchObject({
      type: '718-7',
      occurredAt: '2005-07-05',
      title: 'Hemoglobin 17 g/dL (ref 16.5–21.5)',
      externalVersion: '2005-07-05T15:29:58.597000+00:00',
    });
    expect(r.tags).toContain('laboratory');
    for (const s of [
      'Laboratory result on 5 Jul 2005',
      'Hemoglobin, Blood: 17 g/dL',
      'Reference range: 16.5–21.5 g/dL (Normal Range)',
      'Interpretation: normal',
      'LOINC 718-7 (Hemoglobin [Mass/volume] in Blood)',
      'Specimen: Whole Blood Specimen Example',
    ]) {
      expect(r.text).toContain(s);
    }
    expect(r.data).toMatchObject({ value: 17, unit: 'g/dL', interpretation: ['normal'] });
    expect(r.data.referenceRange).toMatchObject([{ low: 16.5, high: 21.5, unit: 'g/dL', type: 'Normal Range' }]);
    expect(res.samples).toMatchObject([{ type: '718-7', unit: 'g/dL', value: 17, localDate: '2005-07-05' }]);
  });

  it('DiagnosticReport lists its results', () => {
    const r = one(json('diagnosticreport-cbc.json'));
    expect(r).toMatchObject({
      type: '58410-2',
      occurredAt: '2005-07-05',
      title: 'CBC panel - Blood by Automated count',
      externalVersion: '2005-07-06T15:29:58.597Z',
    });
    expect(r.tags).toEqual(['diagnostic-report', 'laboratory']);
    for (const s of [
      'Collected 5 Jul 2005',
      'Issued 6 Jul 2005, 11:45',
      'HEMOGLOBIN (Observation/cbc-hemoglobin)',
      'PLATELETS (Observation/cbc-platelets)',
      'Performed by Acme Laboratory, Inc',
      'Interpreted by Dr Ronald Bone',
    ]) {
      expect(r.text).toContain(s);
    }
    expect(r.data.results).toHaveLength(8);
  });

  it('Condition', () => {
    const r = one(json('condition-encounter-diagnosis-example1.json'));
    expect(r).toMatchObject({ type: 'snomed:39065001', occurredAt: '2015-11-01', title: 'Burnt Ear' });
    expect(r.tags).toEqual(['condition', 'encounter-diagnosis']);
    for (const s of ['Condition: Burnt Ear', 'Recorded 1 Nov 2015', 'SNOMED CT 39065001 (Burn of ear)', 'ICD-10-CM T20.21']) expect(r.text).toContain(s);
  });

  it('MedicationRequest', () => {
    const r = one(json('medicationrequest-self-tylenol.json'));
    expect(r).toMatchObject({ type: 'rxnorm:1187314', occurredAt: '2019-06-24', title: 'Tylenol PM Pill (active)', tags: ['medication'] });
    for (const s of [
      'Medication request (plan): Tylenol PM Pill',
      'Written 24 Jun 2019',
      'Dosage: Takes 1-2 tablets once daily at bedtime',
      'Reason: Headache',
      'RxNorm 1187314',
    ]) {
      expect(r.text).toContain(s);
    }
    expect(r.data).toMatchObject({ status: 'active', intent: 'plan' });
  });

  it('AllergyIntolerance with reactions', () => {
    const r = one(json('allergyintolerance-example.json'));
    expect(r).toMatchObject({ type: 'snomed:763875007', occurredAt: null, title: 'Allergy: sulfonamide antibacterial (high criticality)' });
    expect(r.tags).toEqual(['allergy', 'medication']);
    for (const s of ['Allergy to sulfonamide antibacterial (medication)', 'Clinical status: active', 'Criticality: high', 'Reactions: skin rash (mild)'])
      expect(r.text).toContain(s);
    expect(r.data.reactions).toEqual([{ manifestations: ['skin rash'], severity: 'mild', description: undefined, substance: undefined, onset: undefined }]);
  });

  it('Immunization', () => {
    const r = one(json('imm-1.json'));
    expect(r).toMatchObject({
      type: 'cvx:197',
      occurredAt: '2020-11-19T12:46:57-08:00',
      title: 'Immunization: Influenza, high-dose, quadrivalent, PF',
      tags: ['immunization'],
    });
    for (const s of ['Given 19 Nov 2020, 12:46', 'Lot number: AAJN11K', 'Location: Holy Family Hospital', 'CVX 197', 'NDC 49281012188'])
      expect(r.text).toContain(s);
  });

  it('DocumentReference: inline base64 becomes an attachment with the right bytes', () => {
    const src = json('documentreference-episode-summary.json');
    const b64 = ((src.content as Array<{ attachment: { data: string } }>)[0] as { attachment: { data: string } }).attachment.data;
    const r = one(src);
    expect(r).toMatchObject({
      kind: 'document',
      type: '34133-9',
      occurredAt: '2025-09-27T13:00:00+11:00',
      title: 'Continuity of Care Document (CCD): Pulmonology clinic acute visit',
    });
    expect(r.tags).toEqual(['document', 'clinical-note']);
    expect(r.attachments).toHaveLength(1);
    const att = r.attachments?.[0];
    expect(att?.name).toBe('DocumentReference-episode-summary-1.xml');
    expect(att?.contentType).toBe('application/xml');
    expect(Buffer.from(att?.bytes ?? []).equals(Buffer.from(b64, 'base64'))).toBe(true);
    expect(new TextDecoder().decode(att?.bytes).startsWith('<?xml version="1.0" encoding="utf-8"?>')).toBe(true);
    // The bytes are kept once, as the attachment; the stored resource says where they were.
    const stored = r.data.resource as { content: Array<{ attachment: Record<string, unknown> }> };
    expect(stored.content[0]?.attachment.data).toBeUndefined();
    expect(stored.content[0]?.attachment.contentType).toBe('application/xml');
    expect(r.data.strippedAttachments).toEqual([{ path: 'content[0].attachment', name: 'DocumentReference-episode-summary-1.xml' }]);
    expect((src.content as Array<{ attachment: { data?: string } }>)[0]?.attachment.data).toBe(b64);
    for (const s of [
      'Dated 15 Aug 2026, 22:01',
      'Covers 27 Sep 2025, 13:00 to 19:01',
      'Author: Ronald Bone, MD',
      'application/xml, 172 KB',
      'ALLERGIES AND ADVERSE REACTIONS',
      'Penicillin',
    ]) {
      expect(r.text).toContain(s);
    }
  });

  it('all samples are deterministic: the same input gives the same ids and versions', () => {
    for (const f of US_CORE) {
      const a = transformAny(fixture(f));
      const b = transformAny(JSON.parse(fixture(f)));
      expect(a.records.map((r) => [r.externalId, r.externalVersion])).toEqual(b.records.map((r) => [r.externalId, r.externalVersion]));
      expect(a.issues).toEqual([]);
    }
  });
});

describe('Synthea NDJSON (Bulk Data)', () => {
  for (const rt of SYNTHEA) {
    it(`${rt}: every line becomes a typed record`, () => {
      const text = fixture(`${rt}.augustus49-emmerich580.ndjson`);
      const lines = text.split('\n').filter((l) => l.trim() !== '').length;
      const res = transformNdjson(text);
      expect(res.issues).toEqual([]);
      expect(res.records).toHaveLength(lines);
      for (const r of res.records) {
        expect(r.externalId.startsWith(`${rt}/`)).toBe(true);
        expect(r.data.generic).toBeUndefined();
        if (rt !== 'Patient') expect(r.type.startsWith('fhir:')).toBe(false);
        expect(r.occurredAt).toMatch(/^\d{4}-\d{2}-\d{2}/);
        expect(r.title).not.toBe('');
        expect(r.text.length).toBeGreaterThan(40);
      }
    });
  }

  it('DocumentReference text/plain notes become attachments and readable text', () => {
    const res = transformNdjson(fixture('DocumentReference.augustus49-emmerich580.ndjson'));
    const r = res.records.find((x) => x.externalId === 'DocumentReference/06b2747e-2dae-556b-1c63-f18e22a77951') as RecordInput;
    expect(r).toMatchObject({ kind: 'document', type: '34117-2', occurredAt: '2014-05-18T00:21:52-04:00', title: 'History and physical note' });
    expect(r.attachments?.[0]?.contentType).toBe('text/plain; charset=utf-8');
    expect(new TextDecoder().decode(r.attachments?.[0]?.bytes)).toContain('# Chief Complaint');
    expect(r.text).toContain('# Chief Complaint');
    expect(r.text).toContain('Custodian: PALMERI URGENT CARE LLC');
  });

  it('Synthea values land where expected', () => {
    const cond = transformNdjson(fixture('Condition.augustus49-emmerich580.ndjson')).records.find((r) =>
      r.externalId.endsWith('0051f413-0d84-7179-a81a-2104ea01fe43'),
    );
    expect(cond).toMatchObject({ type: 'snomed:423315002', occurredAt: '2014-05-18T01:06:23-04:00', title: 'Limited social contact (resolved)' });
    expect(cond?.text).toContain('Resolved: 1 Mar 2015, 00:08');
    const allergy = transformNdjson(fixture('AllergyIntolerance.augustus49-emmerich580.ndjson')).records.find((r) => r.type === 'snomed:264287008');
    expect(allergy?.text).toContain('Reactions: Wheal (finding); Dyspnea (finding); Rhinoconjunctivitis (disorder)');
    const med = transformNdjson(fixture('MedicationRequest.augustus49-emmerich580.ndjson')).records.find((r) => r.type === 'rxnorm:313782');
    expect(med?.text).toContain('Reason: Acute bronchitis (disorder)');
    const pat = transformNdjson(fixture('Patient.augustus49-emmerich580.ndjson')).records[0];
    expect(pat?.text).toContain('male, born 30 Dec 1995');
    expect(pat?.text).not.toContain('999-71-3268'); // SSN stays in the encrypted original only
  });

  it('reports invalid lines with their numbers and keeps the rest', () => {
    const good = fixture('Immunization.augustus49-emmerich580.ndjson').split('\n')[0];
    const text = [good, '{not json', '', '{"hello":"world"}', '[1,2]', good?.replace('"id":"213d', '"id":"999d')].join('\n');
    const res = transformNdjson(text);
    expect(res.records.map((r) => r.type)).toEqual(['cvx:43', 'cvx:43']);
    expect(res.issues.map((i) => [i.kind, i.line])).toEqual([
      ['invalid-line', 2],
      ['invalid-line', 4],
      ['invalid-line', 5],
    ]);
    expect(res.issues[1]?.message).toContain('resourceType');
    expect(parseNdjson(text).errors.map((e) => e.line)).toEqual([2, 4, 5]);
  });

  it('streams NDJSON split at arbitrary byte boundaries', async () => {
    const text = `${fixture('Condition.augustus49-emmerich580.ndjson').trimEnd()}\n{"resourceType":"Observation","id":"x","status":"final","code":{"text":"Café ☕ note"},"valueString":"très bien"}\n{oops`;
    const bytes = new TextEncoder().encode(text);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 7) chunks.push(bytes.slice(i, i + 7));
    const out: Array<{ line: number; types: string[]; issues: number }> = [];
    for await (const part of transformNdjsonStream(chunks)) out.push({ line: part.line, types: part.records.map((r) => r.type), issues: part.issues.length });
    expect(out).toHaveLength(23);
    expect(out[21]).toEqual({ line: 22, types: ['fhir:Observation'], issues: 0 });
    expect(out[22]).toEqual({ line: 23, types: [], issues: 1 });
    const whole = transformNdjson(text);
    const streamed: string[] = [];
    for await (const part of transformNdjsonStream([text])) streamed.push(...part.records.map((r) => r.text));
    expect(streamed).toEqual(whole.records.map((r) => r.text));
    expect(streamed[21]).toContain('Café ☕ note: très bien');
  });
});

describe('Bundles', () => {
  const collection = (): Record<string, unknown> => ({
    resourceType: 'Bundle',
    type: 'collection',
    entry: US_CORE.map((f) => {
      const resource = json(f);
      return { fullUrl: `https://example.org/fhir/${String(resource.resourceType)}/${String(resource.id)}`, resource };
    }),
  });

  it('transforms every entry of a collection Bundle and resolves references between entries', () => {
    const res = transformAny(collection());
    expect(res.issues).toEqual([]);
    expect(res.records.map((r) => bareId(r.externalId))).toEqual(US_CORE.map((f) => `${String(json(f).resourceType)}/${String(json(f).id)}`));
    expect(res.samples.map((s) => s.type).sort()).toEqual(['29463-7', '718-7', '8462-4', '8480-6', '8867-4']);
    const report = res.records.find((r) => r.externalId === 'DiagnosticReport/cbc@https://example.org/fhir');
    // The hemoglobin Observation is in the Bundle, so the report shows its value.
    expect(report?.text).toContain('Hemoglobin 17 g/dL (ref 16.5–21.5) (Observation/cbc-hemoglobin)');
    expect(report?.text).toContain('LEUKOCYTES (Observation/cbc-leukocytes)');
  });

  it('keeps a repeated resource version once, with its samples', () => {
    const b = collection();
    (b.entry as unknown[]).push({ resource: json('blood-pressure.json') });
    const res = transformBundle(b);
    expect(res.records.filter((r) => bareId(r.externalId) === 'Observation/blood-pressure')).toHaveLength(1);
    expect(res.samples.filter((s) => s.type === '8480-6')).toHaveLength(1);
    expect(res.issues).toMatchObject([{ kind: 'duplicate', entry: 11, resource: 'Observation/blood-pressure@https://example.org/fhir' }]);
  });

  it('searchset with an OperationOutcome entry: reported, not stored', () => {
    const searchset = {
      resourceType: 'Bundle',
      type: 'searchset',
      total: 1,
      link: [{ relation: 'self', url: 'https://fhir.example.org/api/FHIR/R4/Observation?patient=abc&category=vital-signs' }],
      entry: [
        { fullUrl: 'https://fhir.example.org/api/FHIR/R4/Observation/heart-rate', resource: json('heart-rate.json'), search: { mode: 'match' } },
        {
          resource: {
            resourceType: 'OperationOutcome',
            issue: [
              {
                severity: 'warning',
                code: 'processing',
                details: {
                  coding: [
                    {
                      system: 'urn:oid:1.2.840.114350.1.13.0.1.7.2.657369',
                      code: '4119',
                      display:
                        'This response includes information available to the authorized user at the time of the request. It may not contain the entire record available in the system.',
                    },
                  ],
                  text: 'This response includes information available to the authorized user at the time of the request. It may not contain the entire record available in the system.',
                },
              },
            ],
          },
          search: { mode: 'outcome' },
        },
      ],
    };
    const res = transformAny(searchset);
    expect(res.records.map((r) => bareId(r.externalId))).toEqual(['Observation/heart-rate']);
    expect(res.records.some((r) => r.type.includes('OperationOutcome'))).toBe(false);
    expect(res.issues).toHaveLength(1);
    expect(res.issues[0]).toMatchObject({ kind: 'operation-outcome', severity: 'warning', entry: 1 });
    expect(res.issues[0]?.message).toContain('may not contain the entire record');
    // A whole upload of nothing else is the server's error report, not an empty import.
    expect(() => transformAny({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'forbidden', diagnostics: 'Scope' }] })).toThrow(
      /error report from the health system.*error \(forbidden\): Scope$/,
    );
    expect(transformResource({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'forbidden' }] }).issues).toMatchObject([
      { kind: 'operation-outcome', severity: 'error', code: 'forbidden' },
    ]);
  });

  it('resolves an included Medication and reports entries without a resource', () => {
    const res = transformAny({
      resourceType: 'Bundle',
      type: 'searchset',
      entry: [
        {
          fullUrl: 'https://fhir.example.org/R4/MedicationRequest/mr1',
          resource: {
            resourceType: 'MedicationRequest',
            id: 'mr1',
            status: 'active',
            intent: 'order',
            medicationReference: { reference: 'Medication/m1' },
            authoredOn: '2024-02-03',
            dosageInstruction: [
              {
                timing: { repeat: { frequency: 2, period: 1, periodUnit: 'd' } },
                doseAndRate: [{ doseQuantity: { value: 500, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } }],
              },
            ],
          },
          search: { mode: 'match' },
        },
        {
          fullUrl: 'https://fhir.example.org/R4/Medication/m1',
          resource: {
            resourceType: 'Medication',
            id: 'm1',
            code: {
              coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '861007', display: 'metformin hydrochloride 500 MG Oral Tablet' }],
            },
          },
          search: { mode: 'include' },
        },
        { request: { method: 'DELETE', url: 'Observation/gone' } },
      ],
    });
    const mr = res.records.find((r) => bareId(r.externalId) === 'MedicationRequest/mr1');
    expect(mr).toMatchObject({ type: 'rxnorm:861007', title: 'metformin hydrochloride 500 MG Oral Tablet (active)' });
    expect(mr?.text).toContain('Dosage: 500 mg, 2 times per d');
    const med = res.records.find((r) => bareId(r.externalId) === 'Medication/m1');
    expect(med).toMatchObject({ type: 'fhir:Medication', tags: ['medication-definition'] });
    expect(res.issues).toMatchObject([{ kind: 'invalid-entry', entry: 2 }]);
    expect(res.issues[0]?.message).toContain('DELETE Observation/gone');
  });

  it('refuses a Bundle whose entry is not a list, and names entries that are not objects', () => {
    const patient = { resourceType: 'Patient', id: 'p1', name: [{ family: 'Nowak' }] };
    for (const entry of ['x', 5, null, true]) {
      expect(() => transformBundle({ resourceType: 'Bundle', type: 'collection', entry }), JSON.stringify(entry)).toThrow(FhirInputError);
    }
    expect(transformBundle({ resourceType: 'Bundle', type: 'collection', entry: { resource: patient } }).records).toHaveLength(1);
    const res = transformBundle({ resourceType: 'Bundle', type: 'collection', entry: ['x', null, { resource: patient }] });
    expect(res.records.map((r) => bareId(r.externalId))).toEqual(['Patient/p1']);
    expect(res.issues).toMatchObject([
      { kind: 'invalid-entry', entry: 0, message: 'Bundle entry 0 is a string, not an object' },
      { kind: 'invalid-entry', entry: 1, message: 'Bundle entry 1 is null, not an object' },
    ]);
    expect(transformBundle({ resourceType: 'Bundle', type: 'searchset', total: 0 }).records).toEqual([]);
  });
});

describe('resources without a sample file (from the FHIR R4 spec examples)', () => {
  it('MedicationStatement with a contained Medication', () => {
    const r = one({
      resourceType: 'MedicationStatement',
      id: 'example001',
      contained: [
        {
          resourceType: 'Medication',
          id: 'med0309',
          code: { coding: [{ system: 'http://hl7.org/fhir/sid/ndc', code: '50580-506-02', display: 'Tylenol PM' }] },
          form: { coding: [{ system: 'http://snomed.info/sct', code: '385057009', display: 'Film-coated tablet (qualifier value)' }] },
        },
      ],
      status: 'active',
      medicationReference: { reference: '#med0309' },
      subject: { reference: 'Patient/pat1', display: 'Donald Duck' },
      effectiveDateTime: '2015-01-23',
      dateAsserted: '2015-02-22',
      informationSource: { reference: 'Patient/pat1', display: 'Donald Duck' },
      reasonCode: [{ coding: [{ system: 'http://snomed.info/sct', code: '32914008', display: 'Restless Legs' }] }],
      note: [{ text: 'Patient indicates they miss the occasional dose' }],
      dosage: [
        {
          sequence: 1,
          text: 'NDC 50580-506-02 1-2 tablets once daily at bedtime as needed for restless legs',
          asNeededCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '32914008', display: 'Restless Legs' }] },
        },
      ],
    });
    expect(r).toMatchObject({ type: 'ndc:50580-506-02', occurredAt: '2015-01-23', title: 'Tylenol PM (active)', tags: ['medication'] });
    for (const s of [
      'Medication statement: Tylenol PM',
      'Taken: 23 Jan 2015',
      'Dosage: NDC 50580-506-02 1-2 tablets',
      'Reason: Restless Legs',
      'Form: Film-coated tablet',
      'miss the occasional dose',
      'Information source: Donald Duck',
    ]) {
      expect(r.text).toContain(s);
    }
  });

  it('Procedure', () => {
    const r = one({
      resourceType: 'Procedure',
      id: 'example',
      status: 'completed',
      code: { coding: [{ system: 'http://snomed.info/sct', code: '80146002', display: 'Appendectomy (Procedure)' }], text: 'Appendectomy' },
      subject: { reference: 'Patient/example' },
      performedDateTime: '2013-04-05',
      recorder: { reference: 'Practitioner/example', display: 'Dr Cecil Surgeon' },
      performer: [{ actor: { reference: 'Practitioner/example', display: 'Dr Cecil Surgeon' } }],
      reasonCode: [{ text: 'Generalized abdominal pain 24 hours. Localized in RIF with rebound and guarding' }],
      followUp: [{ text: 'ROS 5 days  - 2013-04-10' }],
      note: [{ text: 'Routine Appendectomy. Appendix was inflamed and in retro-caecal position' }],
    });
    expect(r).toMatchObject({ type: 'snomed:80146002', occurredAt: '2013-04-05', title: 'Appendectomy', tags: ['procedure'] });
    for (const s of [
      'Procedure: Appendectomy',
      'Performed 5 Apr 2013',
      'Reason: Generalized abdominal pain',
      'Performed by Dr Cecil Surgeon',
      'SNOMED CT 80146002 (Appendectomy (Procedure))',
      'retro-caecal',
    ]) {
      expect(r.text).toContain(s);
    }
  });

  it('Encounter', () => {
    const r = one({
      resourceType: 'Encounter',
      id: 'example',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
      type: [
        {
          coding: [{ system: 'http://snomed.info/sct', code: '185349003', display: 'Encounter for check up (procedure)' }],
          text: 'Encounter for check up (procedure)',
        },
      ],
      subject: { reference: 'Patient/example' },
      participant: [{ individual: { reference: 'Practitioner/p1', display: 'Dr. Bobbye345 Wuckert783' } }],
      period: { start: '2026-10-05T09:00:00+02:00', end: '2026-10-05T09:30:00+02:00' },
      reasonCode: [{ coding: [{ system: 'http://snomed.info/sct', code: '38341003', display: 'Hypertension' }] }],
      serviceProvider: { reference: 'Organization/o1', display: 'PALMERI URGENT CARE LLC' },
    });
    expect(r).toMatchObject({
      type: 'snomed:185349003',
      occurredAt: '2026-10-05T09:00:00+02:00',
      title: 'Encounter for check up (ambulatory)',
      tags: ['encounter'],
    });
    for (const s of [
      'Encounter (ambulatory)',
      'When: 5 Oct 2026, 09:00 to 09:30',
      'Status: finished',
      'Reason: Hypertension',
      'Seen by Dr. Bobbye345 Wuckert783',
      'Provider: PALMERI URGENT CARE LLC',
    ]) {
      expect(r.text).toContain(s);
    }
  });

  it('Observation: social history with valueCodeableConcept', () => {
    const res = transformResource({
      resourceType: 'Observation',
      id: 'some-day-smoker',
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'social-history', display: 'Social History' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '72166-2', display: 'Tobacco smoking status' }], text: 'Tobacco smoking status' },
      subject: { reference: 'Patient/example' },
      effectiveDateTime: '2016-05-18T22:33:22Z',
      valueCodeableConcept: {
        coding: [{ system: 'http://snomed.info/sct', code: '428041000124106', display: 'Occasional tobacco smoker' }],
        text: 'Occasional tobacco smoker',
      },
    });
    const r = res.records[0] as RecordInput;
    expect(r).toMatchObject({ type: '72166-2', title: 'Tobacco smoking status: Occasional tobacco smoker', occurredAt: '2016-05-18T22:33:22Z' });
    expect(r.tags).toEqual(['observation', 'social-history']);
    expect(r.text).toContain('Social history on 18 May 2016, 22:33');
    expect(r.data.valueCodes).toEqual([{ system: 'http://snomed.info/sct', code: '428041000124106', display: 'Occasional tobacco smoker' }]);
    expect(res.samples).toEqual([]);
  });

  it('Observation: valueString, valueBoolean, valueInteger', () => {
    const base = { resourceType: 'Observation', status: 'final', effectiveDateTime: '2026-06-01T00:30:05+01:00' };
    const s = one({ ...base, id: 's', code: { coding: [{ system: 'http://loinc.org', code: '5778-6', display: 'Color of Urine' }] }, valueString: 'Yellow' });
    expect(s.title).toBe('Color of Urine: Yellow');
    const b = one({ ...base, id: 'b', code: { text: 'Pregnancy status' }, valueBoolean: false });
    expect(b).toMatchObject({ type: 'fhir:Observation', title: 'Pregnancy status: no' });
    const i = transformResource({
      ...base,
      id: 'i',
      code: { coding: [{ system: 'http://loinc.org', code: '72514-3' }] },
      valueInteger: 4,
      performer: [{ display: 'Withings app' }],
    });
    expect(i.records[0]?.title).toBe('Pain severity (0–10) 4');
    expect(i.samples).toEqual([
      {
        type: '72514-3',
        unit: '1',
        startMs: Date.UTC(2026, 4, 31, 23, 30, 5),
        endMs: Date.UTC(2026, 4, 31, 23, 30, 5),
        localDate: '2026-06-01',
        value: 4,
        sourceName: 'Withings app',
      },
    ]);
  });

  it('Observation: low result, comparator, period and entered-in-error', () => {
    const low = transformResource({
      resourceType: 'Observation',
      id: 'hb',
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '718-7', display: 'Hemoglobin [Mass/volume] in Blood' }] },
      effectivePeriod: { start: '2026-10-05T08:00:00-04:00', end: '2026-10-05T08:10:00-04:00' },
      valueQuantity: { value: 13.2, unit: 'g/dL', system: 'http://unitsofmeasure.org', code: 'g/dL' },
      interpretation: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'L', display: 'Low' }] }],
      referenceRange: [{ low: { value: 13.5, unit: 'g/dL' }, high: { value: 17.5, unit: 'g/dL' } }, { text: 'Adult male' }],
    });
    expect(low.records[0]?.title).toBe('Hemoglobin 13.2 g/dL (ref 13.5–17.5) low');
    expect(low.records[0]?.text).toContain('Laboratory result on 5 Oct 2026, 08:00');
    expect(low.records[0]?.text).toContain('Reference range: 13.5–17.5 g/dL; Adult male');
    expect(low.samples).toMatchObject([{ startMs: Date.UTC(2026, 9, 5, 12), endMs: Date.UTC(2026, 9, 5, 12, 10), localDate: '2026-10-05', value: 13.2 }]);

    const lt = transformResource({
      resourceType: 'Observation',
      id: 'crp',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '1988-5', display: 'C reactive protein' }] },
      effectiveDateTime: '2026-10-05',
      valueQuantity: { value: 5, comparator: '<', unit: 'mg/L', code: 'mg/L', system: 'http://unitsofmeasure.org' },
    });
    expect(lt.records[0]?.title).toBe('C reactive protein <5 mg/L');
    expect(lt.samples).toEqual([]);

    const err = transformResource({
      resourceType: 'Observation',
      id: 'e',
      status: 'entered-in-error',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      effectiveDateTime: '2026-10-05',
      valueQuantity: { value: 300, code: '/min' },
    });
    expect(err.records[0]?.tags).toContain('entered-in-error');
    expect(err.samples).toEqual([]);
  });

  it('DocumentReference with HTML and a URL-only attachment', () => {
    const html = '<html><head><style>p{}</style></head><body><h1>Discharge summary</h1><p>Patient stable &amp; well.</p><script>x()</script></body></html>';
    const r = one({
      resourceType: 'DocumentReference',
      id: 'd1',
      status: 'current',
      type: { coding: [{ system: 'http://loinc.org', code: '18842-5', display: 'Discharge summary' }] },
      date: '2026-10-05T17:00:00+01:00',
      content: [
        { attachment: { contentType: 'text/html', title: 'summary', data: Buffer.from(html).toString('base64') } },
        { attachment: { contentType: 'application/pdf', url: 'Binary/abc', title: 'Scan' } },
      ],
    });
    expect(r).toMatchObject({ kind: 'document', type: '18842-5', occurredAt: '2026-10-05T17:00:00+01:00', title: 'Discharge summary' });
    expect(r.attachments?.map((a) => a.name)).toEqual(['summary.html']);
    expect(r.text).toContain('Discharge summary\nPatient stable & well.');
    expect(r.text).not.toContain('<p>');
    expect(r.text).not.toContain('x()');
    expect(r.text).toContain('Scan: application/pdf at Binary/abc (not downloaded)');
    expect(r.data.remoteAttachments).toEqual([{ url: 'Binary/abc', contentType: 'application/pdf', title: 'Scan' }]);
  });

  it('reports an attachment that is not base64', () => {
    const res = transformResource({
      resourceType: 'DocumentReference',
      id: 'bad',
      status: 'current',
      content: [{ attachment: { contentType: 'text/plain', data: '***' } }],
    });
    expect(res.records).toHaveLength(1);
    expect(res.records[0]?.attachments).toBeUndefined();
    expect(res.issues).toMatchObject([{ kind: 'attachment', resource: 'DocumentReference/bad' }]);
  });
});

describe('generic and invalid input', () => {
  it('keeps an unknown resource type as a generic record', () => {
    const res = transformAny({
      resourceType: 'FamilyMemberHistory',
      id: 'father',
      text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Father died of a heart attack aged 74</div>' },
      status: 'completed',
      date: '2011-03-18',
      relationship: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'FTH', display: 'father' }] },
      condition: [
        {
          code: { coding: [{ system: 'http://snomed.info/sct', code: '315619001', display: 'Myocardial Infarction' }], text: 'Heart Attack' },
          onsetAge: { value: 74, unit: 'yr', system: 'http://unitsofmeasure.org', code: 'a' },
        },
      ],
    });
    const r = res.records[0] as RecordInput;
    expect(r).toMatchObject({
      kind: 'record',
      type: 'fhir:FamilyMemberHistory',
      externalId: 'FamilyMemberHistory/father',
      occurredAt: '2011-03-18',
      tags: ['family-member-history'],
    });
    expect(r.data.generic).toBe(true);
    expect(r.text).toContain('Father died of a heart attack aged 74');
    expect(r.text).toContain('relationship: father');
    expect(r.text).toContain('Heart Attack');
  });

  it('gives resources without an id a stable content hash', () => {
    const a = one({ resourceType: 'Observation', status: 'final', code: { text: 'Mood' }, valueString: 'good' });
    const b = one({ valueString: 'good', code: { text: 'Mood' }, status: 'final', resourceType: 'Observation' });
    const c = one({ resourceType: 'Observation', status: 'final', code: { text: 'Mood' }, valueString: 'bad' });
    expect(a.externalId).toMatch(/^Observation\/sha256-[0-9a-f]{32}$/);
    expect(a.externalId).toBe(b.externalId);
    expect(a.externalVersion).toBe(b.externalVersion);
    expect(c.externalId).not.toBe(a.externalId);
    expect(
      one({ resourceType: 'Observation', id: 'v', meta: { versionId: '7', lastUpdated: '2026-01-01T00:00:00Z' }, status: 'final', code: { text: 'x' } })
        .externalVersion,
    ).toBe('7');
  });

  it('passes the source through', () => {
    expect(transformResource(json('heart-rate.json'), { source: 'epic' }).records[0]?.source).toBe('epic');
  });

  it('throws FhirInputError for input that is not FHIR', () => {
    const cases: unknown[] = [null, 42, 'hello world', '', '{"name":"not fhir"}', { foo: 1 }, { resourceType: 7 }, [], [{ a: 1 }], '<xml/>'];
    for (const c of cases) {
      expect(() => transformAny(c), JSON.stringify(c)).toThrow(FhirInputError);
    }
    try {
      transformResource({ foo: 1 });
    } catch (e) {
      expect(e).toBeInstanceOf(FhirInputError);
      expect((e as Error).name).toBe('FhirInputError');
      expect((e as Error).message).toContain('resourceType');
    }
  });

  it('accepts JSON text, arrays of resources and NDJSON text', () => {
    expect(transformAny(fixture('imm-1.json')).records[0]?.type).toBe('cvx:197');
    expect(transformAny([json('imm-1.json'), json('heart-rate.json')]).records).toHaveLength(2);
    expect(transformAny(fixture('Immunization.augustus49-emmerich580.ndjson')).records).toHaveLength(11);
  });
});

describe('resources a Bundle or NDJSON cannot use cost themselves only', () => {
  /** The US Core Condition with an extension nested `levels` extensions deep (two JSON levels each). */
  const deepCondition = (levels: number): Record<string, unknown> => {
    let ext: Record<string, unknown> = { url: 'http://example.org/fhir/StructureDefinition/note', valueString: 'innermost' };
    for (let i = 0; i < levels; i++) ext = { url: 'http://example.org/fhir/StructureDefinition/group', extension: [ext] };
    return { ...json('condition-encounter-diagnosis-example1.json'), id: `deep-${levels}`, extension: [ext] };
  };
  /** The same as JSON text, written without JSON.stringify (which cannot follow 5,000 levels either). */
  const deepConditionText = (levels: number): string => {
    const group = '{"url":"http://example.org/fhir/StructureDefinition/group","extension":[';
    const inner = '{"url":"http://example.org/fhir/StructureDefinition/note","valueString":"innermost"}';
    const ext = `[${group.repeat(levels)}${inner}${']}'.repeat(levels)}]`;
    return JSON.stringify({ ...json('condition-encounter-diagnosis-example1.json'), id: `deep-${levels}` }).replace(/}$/, `,"extension":${ext}}`);
  };

  it('skips a resource nested thousands of levels deep as an issue, keeps the others, and never overflows the stack', () => {
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: json('heart-rate.json') }, { resource: deepCondition(5000) }] };
    const res = transformBundle(bundle);
    expect(res.records.map((r) => bareId(r.externalId))).toEqual(['Observation/heart-rate']);
    expect(res.samples.map((s) => s.type)).toEqual(['8867-4']);
    expect(res.issues).toMatchObject([{ kind: 'too-deep', severity: 'error', entry: 1 }]);
    expect(res.issues[0]?.message).toContain(`more than ${MAX_RESOURCE_DEPTH} levels`);
    // The same resource alone is refused with a sentence, not a RangeError.
    expect(() => transformResource(deepCondition(5000))).toThrow(FhirInputError);
    expect(() => transformAny(deepConditionText(5000))).toThrow(/nested more than 64 levels/);
    // Arrays in arrays count the same.
    let arrays: unknown = 1;
    for (let i = 0; i < 200_000; i++) arrays = [arrays];
    expect(transformAny([json('imm-1.json'), { ...json('heart-rate.json'), id: 'arrays', note: arrays }]).issues).toMatchObject([
      { kind: 'too-deep', entry: 1 },
    ]);
  });

  it('keeps real nesting: a resource just under the limit imports, just over it does not', () => {
    // The Condition itself is level 1, its extension list 2: each nested extension adds two.
    const under = deepCondition(Math.floor((MAX_RESOURCE_DEPTH - 3) / 2));
    const over = deepCondition(Math.floor((MAX_RESOURCE_DEPTH - 3) / 2) + 1);
    expect(transformResource(under).records.map((r) => r.externalId)).toEqual([`Condition/${String(under.id)}`]);
    expect(transformBundle({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: over }] }).issues).toMatchObject([{ kind: 'too-deep' }]);
  });

  it('skips a Bundle nested in Bundles thousands of times as one issue', () => {
    let inner: Record<string, unknown> = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: json('weight.json') }] };
    for (let i = 0; i < 5000; i++) inner = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: inner }] };
    const res = transformBundle({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: json('heart-rate.json') }, { resource: inner }] });
    expect(res.records.map((r) => bareId(r.externalId))).toEqual(['Observation/heart-rate']);
    expect(res.issues).toMatchObject([{ kind: 'too-deep', entry: 1 }]);
  });

  it('reports a deep NDJSON line with its number, whole or streamed, and keeps the lines around it', async () => {
    const [first, second] = fixture('Immunization.augustus49-emmerich580.ndjson').split('\n');
    const text = [first, deepConditionText(5000), second].join('\n');
    const whole = transformNdjson(text);
    expect(whole.records.map((r) => r.type)).toEqual(['cvx:43', 'cvx:140']);
    expect(whole.issues).toMatchObject([{ kind: 'too-deep', line: 2 }]);
    const streamed: Array<[number, string[], string[]]> = [];
    for await (const part of transformNdjsonStream([text])) streamed.push([part.line, part.records.map((r) => r.type), part.issues.map((i) => i.kind)]);
    expect(streamed).toEqual([
      [1, ['cvx:43'], []],
      [2, [], ['too-deep']],
      [3, ['cvx:140'], []],
    ]);
  });

  it('skips an entry whose resourceType is not a FHIR type ("observation", "constructor", "__proto__") and imports the rest', () => {
    const hr = fixture('heart-rate.json');
    const odd = (rt: string) =>
      hr.replace('"resourceType": "Observation"', `"resourceType": ${JSON.stringify(rt)}`).replace('"id": "heart-rate"', `"id": "odd-${rt}"`);
    expect(odd('x')).not.toBe(hr);
    // As text, so "__proto__" is an own key of the parsed entry, as it is in a real upload.
    const text = `{"resourceType":"Bundle","type":"collection","entry":[{"resource":${fixture('weight.json')}},${[
      'observation',
      'constructor',
      '__proto__',
      'hasOwnProperty',
    ]
      .map((rt) => `{"resource":${odd(rt)}}`)
      .join(',')},{"__proto__":{"resourceType":"Observation"},"resource":${fixture('imm-1.json')}}]}`;
    const res = transformAny(text);
    expect(res.records.map((r) => bareId(r.externalId))).toEqual(['Observation/weight', 'Immunization/imm-1']);
    expect(res.issues.map((i) => [i.kind, i.entry])).toEqual([
      ['invalid-entry', 1],
      ['invalid-entry', 2],
      ['invalid-entry', 3],
      ['invalid-entry', 4],
    ]);
    expect(res.issues[0]?.message).toContain('"observation" is not a FHIR resource type');
    const lines = [fixture('Immunization.augustus49-emmerich580.ndjson').split('\n')[0], JSON.stringify(JSON.parse(odd('constructor')))].join('\n');
    expect(transformNdjson(lines).issues).toMatchObject([{ kind: 'invalid-line', line: 2 }]);
  });

  it('reads codes and keys named like Object.prototype members as plain text', () => {
    const hr = json('heart-rate.json');
    const rec = one({
      ...hr,
      id: 'proto',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'constructor' }] }],
      code: { coding: [{ system: 'constructor', code: 'toString' }] },
      interpretation: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'valueOf' }] }],
      text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">&constructor; &amp;</div>' },
    });
    expect(rec.tags.every((t) => typeof t === 'string')).toBe(true);
    expect(rec.tags).toContain('constructor');
    expect(`${rec.title}\n${rec.text}`).not.toMatch(/native code|\[object|function/);
    const loinc = one({ ...hr, id: 'proto-loinc', code: { coding: [{ system: 'http://loinc.org', code: 'constructor' }] } });
    expect(loinc.title).not.toMatch(/^Object\b|native code/);
    const doc = json('documentreference-episode-summary.json');
    const content = (doc.content as Array<{ attachment: Record<string, unknown> }>)[0]!;
    const att = one({
      ...doc,
      id: 'proto-doc',
      content: [{ ...content, attachment: { ...content.attachment, contentType: 'constructor', title: 'summary' } }],
    });
    expect(att.attachments?.map((a) => a.name)).toEqual(['summary']);
    const enc = one({
      resourceType: 'Encounter',
      id: 'proto-enc',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'constructor' },
    });
    expect(enc.text).not.toMatch(/native code/);
    expect(htmlToText('<p>&constructor; &toString; &amp; &micro;g</p>')).toBe('&constructor; &toString; & µg');
  });
});
