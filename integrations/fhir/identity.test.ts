/**
 * A record's identity names the server its resource came from: FHIR ids are unique only within
 * one server (HAPI numbers them 1, 2, 3...), so two hospitals' `Observation/1` are two records.
 */
import { describe, expect, it } from 'vitest';
import { transformAny, transformBundle, transformResource } from './transform.js';

const obs = (id: string, loinc: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: loinc }] },
  effectiveDateTime: '2026-05-01T08:00:00Z',
  valueQuantity: { value: 100, unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' },
  ...extra,
});
const searchset = (...entries: Array<{ fullUrl?: string; resource: object }>) => ({ resourceType: 'Bundle', type: 'searchset', entry: entries });
const ids = (json: unknown, opts = {}) => transformAny(json, opts).records.map((r) => r.externalId);

describe('record identity', () => {
  it('qualifies an id by the server its fullUrl names, normalised', () => {
    const a = ids(searchset({ fullUrl: 'https://fhir.hospa.example/r4/Observation/1', resource: obs('1', '2345-7') }));
    const b = ids(searchset({ fullUrl: 'https://fhir.hospb.example/r4/Observation/1', resource: obs('1', '2093-3') }));
    expect(a).toEqual(['Observation/1@https://fhir.hospa.example/r4']);
    expect(b).toEqual(['Observation/1@https://fhir.hospb.example/r4']);
    // The same server written another way: scheme and host case, a trailing slash, a version, a default port.
    for (const fullUrl of [
      'HTTPS://FHIR.HospA.example/r4/Observation/1',
      'https://fhir.hospa.example:443/r4/Observation/1/_history/3',
      'https://fhir.hospa.example/r4//Observation/1',
    ]) {
      expect(ids(searchset({ fullUrl, resource: obs('1', '2345-7') }))).toEqual(a);
    }
  });

  it('keeps two entries with one type/id from two servers in one Bundle as two records', () => {
    const res = transformBundle(
      searchset(
        { fullUrl: 'https://fhir.hospa.example/r4/Observation/1', resource: obs('1', '2345-7') },
        { fullUrl: 'https://fhir.hospb.example/r4/Observation/1', resource: obs('1', '2093-3') },
      ),
    );
    expect(res.records.map((r) => r.type)).toEqual(['2345-7', '2093-3']);
    expect(new Set(res.records.map((r) => r.externalId)).size).toBe(2);
    expect(res.samples).toHaveLength(2);
    expect(res.issues).toEqual([]);
  });

  it('resolves a relative reference against the referencing entry’s own server', () => {
    const med = (id: string, text: string) => ({ resourceType: 'Medication', id, code: { text } });
    const request = { resourceType: 'MedicationRequest', id: 'mr', status: 'active', intent: 'order', medicationReference: { reference: 'Medication/m' } };
    const res = transformBundle(
      searchset(
        { fullUrl: 'https://a.example/fhir/Medication/m', resource: med('m', 'Aspirin') },
        { fullUrl: 'https://b.example/fhir/Medication/m', resource: med('m', 'Metformin') },
        { fullUrl: 'https://a.example/fhir/MedicationRequest/mr', resource: request },
      ),
    );
    expect(res.records.find((r) => r.externalId.startsWith('MedicationRequest/'))?.title).toContain('Aspirin');
  });

  it('gives an upload without fullUrls an identity of its own that a re-upload repeats', () => {
    const a = searchset({ resource: obs('1', '2345-7') });
    const b = searchset({ resource: obs('1', '2093-3') });
    expect(ids(a)[0]).not.toBe(ids(b)[0]);
    expect(ids(structuredClone(a))).toEqual(ids(a));
    // A new Bundle id or timestamp on the same content is the same upload.
    expect(ids({ ...a, id: 'x', timestamp: '2026-06-01T00:00:00Z' })).toEqual(ids(a));
  });

  it('takes the server from the Bundle’s self link when its entries have no fullUrl', () => {
    const b = { ...searchset({ resource: obs('1', '2345-7') }), link: [{ relation: 'self', url: 'https://Fhir.HospA.example/r4/Observation?patient=1' }] };
    expect(ids(b)).toEqual(['Observation/1@https://fhir.hospa.example/r4']);
  });

  it('names a transaction’s urn:uuid entries by their urn, ids being local to the Bundle', () => {
    const tx = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ fullUrl: 'urn:uuid:0b6d2a3e-1c4f-4f7a-9d0e-2f1a3b4c5d6e', resource: obs('1', '2345-7') }],
    };
    expect(ids(tx)).toEqual(['Observation/1@urn:uuid:0b6d2a3e-1c4f-4f7a-9d0e-2f1a3b4c5d6e']);
  });

  it('lets the caller name the server (a sync’s connection), whatever the fullUrls say', () => {
    const b = searchset({ fullUrl: 'https://other.example/r4/Observation/1', resource: obs('1', '2345-7') });
    expect(ids(b, { origin: 'https://fhir.epic.example/api/FHIR/R4/' })).toEqual(['Observation/1@https://fhir.epic.example/api/FHIR/R4']);
    expect(transformResource(obs('1', '2345-7'), { origin: 'https://fhir.epic.example/api/FHIR/R4' }).records[0]?.externalId).toBe(
      'Observation/1@https://fhir.epic.example/api/FHIR/R4',
    );
  });

  it('keeps a lone resource’s identity as it was, and names the former one of a qualified record', () => {
    expect(transformResource(obs('1', '2345-7')).records[0]).toMatchObject({ externalId: 'Observation/1' });
    expect(transformResource(obs('1', '2345-7')).records[0]?.legacyExternalId).toBeUndefined();
    const [r] = transformAny(searchset({ fullUrl: 'https://fhir.hospa.example/r4/Observation/1', resource: obs('1', '2345-7') })).records;
    expect(r?.legacyExternalId).toBe('Observation/1');
  });
});
