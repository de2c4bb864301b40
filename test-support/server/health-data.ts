/**
 * Health records as real sources send them, for tests, e2e and benches: lab Observations shaped
 * exactly like the US Core example (integrations/fhir/fixtures/observation-cbc-hemoglobin.json,
 * CC0) with another analyte, value and date, and the DSTU2 shape Apple's Health app stores for
 * results from Epic sites (category a single concept under hl7.org/fhir, `valueQuantity` with a
 * UCUM code), packed into an export.zip beside the real opendroid sample export.
 */
import { readFileSync } from 'node:fs';
import { buildZip } from '../integrations/apple-health/export-writer.js';

const FIXTURES = new URL('../../integrations/fhir/fixtures/', import.meta.url);
const APPLE = new URL('../../integrations/apple-health/fixtures/', import.meta.url);

export const fhirFixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as Record<string, unknown>;
export const fhirNdjson = (name: string): Array<Record<string, unknown>> =>
  readFileSync(new URL(name, FIXTURES), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);

export interface LabSpec {
  id: string;
  loinc: string;
  display: string;
  value: number;
  unit: string;
  date: string;
  low?: number;
  high?: number;
  /** v3 ObservationInterpretation code (H, L, N). */
  interpretation?: 'H' | 'L' | 'N';
}

/** An R4 US Core lab Observation: the CBC hemoglobin example with another result. */
export function usCoreLab(s: LabSpec): Record<string, unknown> {
  const r = structuredClone(fhirFixture('observation-cbc-hemoglobin.json'));
  r.id = s.id;
  r.code = { coding: [{ system: 'http://loinc.org', code: s.loinc, display: s.display }], text: s.display };
  r.effectiveDateTime = s.date;
  r.valueQuantity = { value: s.value, unit: s.unit, system: 'http://unitsofmeasure.org', code: s.unit };
  r.referenceRange = s.low !== undefined || s.high !== undefined ? [range(s)] : undefined;
  if (s.interpretation) {
    r.interpretation = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: s.interpretation }] }];
  } else delete r.interpretation;
  delete (r.meta as Record<string, unknown>).lastUpdated;
  return r;
}

function range(s: LabSpec) {
  const q = (v: number) => ({ value: v, unit: s.unit, system: 'http://unitsofmeasure.org', code: s.unit });
  return { ...(s.low !== undefined ? { low: q(s.low) } : {}), ...(s.high !== undefined ? { high: q(s.high) } : {}) };
}

/** A DSTU2 lab Observation as Apple Health keeps it for an Epic site. */
export function dstu2Lab(s: LabSpec): Record<string, unknown> {
  return {
    resourceType: 'Observation',
    id: s.id,
    status: 'final',
    category: { coding: [{ system: 'http://hl7.org/fhir/observation-category', code: 'laboratory', display: 'Laboratory' }], text: 'Laboratory' },
    code: { coding: [{ system: 'http://loinc.org', code: s.loinc, display: s.display }], text: s.display },
    effectiveDateTime: s.date,
    issued: s.date,
    valueQuantity: { value: s.value, unit: s.unit, system: 'http://unitsofmeasure.org', code: s.unit },
    ...(s.low !== undefined || s.high !== undefined ? { referenceRange: [range(s)] } : {}),
    ...(s.interpretation ? { interpretation: { coding: [{ system: 'http://hl7.org/fhir/v2/0078', code: s.interpretation }] } } : {}),
  };
}

/** A collection Bundle of resources, as POST /api/import/fhir takes it. */
export function bundle(resources: Array<Record<string, unknown>>): string {
  return JSON.stringify({
    resourceType: 'Bundle',
    type: 'collection',
    entry: resources.map((resource) => ({ fullUrl: `urn:uuid:${String(resource.id)}`, resource })),
  });
}

/**
 * An export.zip: the real opendroid sample export.xml (MIT) with a ClinicalRecord line per given
 * DSTU2 resource, and each resource's JSON under clinical-records/ as the Health app writes it.
 */
export function appleExportWithClinical(resources: Array<Record<string, unknown>>): Buffer {
  const xml = readFileSync(new URL('opendroid-hk_sampleexport.xml', APPLE), 'utf8');
  const lines = resources
    .map((r) => {
      const file = `/clinical-records/${String(r.resourceType)}-${String(r.id)}.json`;
      return `    <ClinicalRecord type="${String(r.resourceType)}" identifier="${String(r.id)}" sourceName="Sutter Health" sourceURL="https://apiservices.sutterhealth.org/ifs/api/FHIR/DSTU2/${String(r.resourceType)}/${String(r.id)}" fhirVersion="1.0.2" receivedDate="2020-12-06 20:24:29 -0800" resourceFilePath="${file}"/>\n`;
    })
    .join('');
  const withClinical = xml.replace('</HealthData>', `${lines}</HealthData>`);
  return buildZip([
    { name: 'apple_health_export/export.xml', data: withClinical },
    ...resources.map((r) => ({ name: `apple_health_export/clinical-records/${String(r.resourceType)}-${String(r.id)}.json`, data: JSON.stringify(r) })),
  ]);
}
