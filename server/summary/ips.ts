/**
 * A patient summary as a FHIR R4 document Bundle following the International Patient Summary
 * (HL7 IPS IG, http://hl7.org/fhir/uv/ips): Composition first, with the IPS sections and their
 * LOINC codes, each section's entries referenced by the fullUrl of a resource in the Bundle.
 *
 * Resources are written fresh from what the vault normalised, not copied from the sources: the
 * originals may be DSTU2 (Apple's copies of Epic records) and reference encounters, practitioners
 * and medications that are not in the summary; IPS wants R4 that resolves inside the Bundle.
 */
import { randomUUID } from 'node:crypto';
import type { ClinicalEntry } from '../services/clinical.service.js';
import type { SectionKey, SummaryModel } from './model.js';

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';

/** IPS section codes (LOINC) and titles, in the IG's order. */
export const IPS_SECTIONS: Record<SectionKey, { code: string; display: string; title: string; required: boolean }> = {
  problems: { code: '11450-4', display: 'Problem list - Reported', title: 'Problems', required: true },
  medications: { code: '10160-0', display: 'History of Medication use Narrative', title: 'Medications', required: true },
  allergies: { code: '48765-2', display: 'Allergies and adverse reactions Document', title: 'Allergies and intolerances', required: true },
  immunizations: { code: '11369-6', display: 'History of Immunization Narrative', title: 'Immunizations', required: false },
  results: { code: '30954-2', display: 'Relevant diagnostic tests/laboratory data Narrative', title: 'Results', required: false },
  vitals: { code: '8716-3', display: 'Vital signs', title: 'Vital signs', required: false },
  procedures: { code: '47519-4', display: 'History of Procedures Document', title: 'History of procedures', required: false },
};
const ORDER: SectionKey[] = ['problems', 'medications', 'allergies', 'immunizations', 'results', 'vitals', 'procedures'];

type Res = Record<string, unknown>;
interface Entry {
  fullUrl: string;
  resource: Res;
}

const newUrl = () => `urn:uuid:${randomUUID()}`;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function narrative(lines: string[]): { status: 'generated'; div: string } {
  const body = lines.length ? `<ul>${lines.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>` : '<p>No information available.</p>';
  return { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${body}</div>` };
}

/** A CodeableConcept whose codings all carry a system; a code without one stays as text only. */
function concept(e: { code?: ClinicalEntry['code']; name: string }): Res {
  const c = e.code;
  return c?.system ? { coding: [{ system: c.system, code: c.code, ...(c.display ? { display: c.display } : {}) }], text: e.name } : { text: e.name };
}

const MED_STATUS: Record<string, string> = {
  active: 'active',
  completed: 'completed',
  stopped: 'stopped',
  'on-hold': 'on-hold',
  cancelled: 'stopped',
  draft: 'intended',
  intended: 'intended',
  'not-taken': 'not-taken',
};
const CLINICAL_STATUS: Record<string, string> = {
  active: 'active',
  recurrence: 'recurrence',
  relapse: 'relapse',
  inactive: 'inactive',
  remission: 'remission',
  resolved: 'resolved',
};

export function buildIpsBundle(model: SummaryModel): Res {
  const patientUrl = newUrl();
  const subject = { reference: patientUrl };
  const entries: Entry[] = [];
  const patient: Res = { resourceType: 'Patient', id: patientUrl.slice(9) };
  if (model.patient?.name) patient.name = [{ text: model.patient.name }];
  if (model.patient?.gender) patient.gender = model.patient.gender;
  if (model.patient?.birthDate) patient.birthDate = model.patient.birthDate;

  const add = (resource: Res): string => {
    const fullUrl = newUrl();
    resource.id = fullUrl.slice(9);
    entries.push({ fullUrl, resource });
    return fullUrl;
  };

  const sections: Res[] = [];
  for (const key of ORDER) {
    const chosen = model.sections.includes(key);
    const info = IPS_SECTIONS[key];
    if (!chosen && !info.required) continue;
    const section: Res = { title: info.title, code: { coding: [{ system: LOINC, code: info.code, display: info.display }] } };
    if (!chosen) {
      // IPS requires these three; the person left this one out, and the document says so.
      section.text = narrative([]);
      section.emptyReason = {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/list-empty-reason', code: 'withheld', display: 'Information Withheld' }],
      };
      sections.push(section);
      continue;
    }
    const refs: string[] = [];
    const lines: string[] = [];
    if (key === 'problems') {
      for (const e of model.problems ?? []) {
        const status = CLINICAL_STATUS[e.status ?? ''] ?? (e.group === 'resolved' ? 'resolved' : 'active');
        refs.push(
          add({
            resourceType: 'Condition',
            clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: status }] },
            code: concept(e),
            subject,
            ...(e.date ? { onsetDateTime: e.date } : {}),
            ...(e.end ? { abatementDateTime: e.end } : {}),
          }),
        );
        lines.push(`${e.name} (${status}${e.date ? `, since ${e.day ?? e.date.slice(0, 10)}` : ''})`);
      }
    } else if (key === 'medications') {
      for (const e of model.medications ?? []) {
        const status = MED_STATUS[e.status ?? ''] ?? (e.group === 'past' ? 'completed' : 'active');
        refs.push(
          add({
            resourceType: 'MedicationStatement',
            status,
            medicationCodeableConcept: concept(e),
            subject,
            ...(e.date || e.end ? { effectivePeriod: { ...(e.date ? { start: e.date } : {}), ...(e.end ? { end: e.end } : {}) } } : {}),
            ...(e.detail ? { dosage: [{ text: e.detail }] } : {}),
          }),
        );
        lines.push(`${e.name} (${status})${e.detail ? `: ${e.detail}` : ''}`);
      }
    } else if (key === 'allergies') {
      for (const e of model.allergies ?? []) {
        refs.push(
          add({
            resourceType: 'AllergyIntolerance',
            clinicalStatus: {
              coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: e.group === 'resolved' ? 'resolved' : 'active' }],
            },
            code: concept(e),
            patient: subject,
            ...(e.criticality ? { criticality: e.criticality } : {}),
            ...(e.date ? { onsetDateTime: e.date } : {}),
            ...(e.reactions?.length ? { reaction: [{ manifestation: e.reactions.map((text) => ({ text })) }] } : {}),
          }),
        );
        lines.push(`${e.name}${e.criticality ? ` (criticality ${e.criticality})` : ''}${e.reactions?.length ? `: ${e.reactions.join(', ')}` : ''}`);
      }
    } else if (key === 'immunizations') {
      for (const e of model.immunizations ?? []) {
        refs.push(
          add({
            resourceType: 'Immunization',
            status: e.group === 'not-given' ? 'not-done' : 'completed',
            vaccineCode: concept(e),
            patient: subject,
            occurrenceDateTime: e.date ?? model.generatedAt,
          }),
        );
        lines.push(`${e.name}${e.date ? `, ${e.day ?? e.date.slice(0, 10)}` : ''}`);
      }
    } else if (key === 'procedures') {
      for (const e of model.procedures ?? []) {
        refs.push(
          add({
            resourceType: 'Procedure',
            status: e.group === 'not-done' ? 'not-done' : 'completed',
            code: concept(e),
            subject,
            ...(e.date ? { performedDateTime: e.date } : {}),
          }),
        );
        lines.push(`${e.name}${e.date ? `, ${e.day ?? e.date.slice(0, 10)}` : ''}`);
      }
    } else if (key === 'results') {
      for (const r of model.results ?? []) {
        const q = (v: number) => ({ value: v, unit: r.unit, system: UCUM, code: r.unit });
        refs.push(
          add({
            resourceType: 'Observation',
            status: 'final',
            category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
            code: codeOf(r.code, r.name),
            subject,
            effectiveDateTime: r.date,
            valueQuantity: { ...(r.comparator ? { comparator: r.comparator } : {}), ...q(r.value) },
            ...(r.low !== undefined || r.high !== undefined
              ? { referenceRange: [{ ...(r.low !== undefined ? { low: q(r.low) } : {}), ...(r.high !== undefined ? { high: q(r.high) } : {}) }] }
              : {}),
            ...(r.flag
              ? { interpretation: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: FLAG_CODE[r.flag] }] }] }
              : {}),
          }),
        );
        lines.push(
          `${r.name}: ${r.comparator ?? ''}${r.value} ${r.unit}${r.low !== undefined || r.high !== undefined ? ` (range ${r.low ?? ''}–${r.high ?? ''})` : ''}${r.flag && r.flag !== 'normal' ? ` ${r.flag}` : ''}, ${r.day ?? r.date.slice(0, 10)}`,
        );
      }
    } else if (key === 'vitals') {
      for (const v of model.vitals ?? []) {
        refs.push(
          add({
            resourceType: 'Observation',
            status: 'final',
            category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
            code: codeOf(v.loinc ?? v.code, `${v.title} (${v.label})`),
            subject,
            effectivePeriod: { start: v.from, end: v.to },
            valueQuantity: { value: round(v.mean), unit: v.unit, system: UCUM, code: v.unit },
            note: [
              {
                text: `Mean of ${v.days} daily means from ${v.from} to ${v.to}; range ${round(v.min)}–${round(v.max)} ${v.unit}; latest ${round(v.latest.value)} on ${v.latest.date}.`,
              },
            ],
          }),
        );
        lines.push(`${v.title} (${v.label}): mean ${round(v.mean)} ${v.unit} over ${v.days} days, latest ${round(v.latest.value)} on ${v.latest.date}`);
      }
    }
    section.text = narrative(lines);
    if (refs.length) section.entry = refs.map((reference) => ({ reference }));
    else section.emptyReason = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/list-empty-reason', code: 'unavailable', display: 'Unavailable' }] };
    sections.push(section);
  }

  const compositionUrl = newUrl();
  const composition: Res = {
    resourceType: 'Composition',
    id: compositionUrl.slice(9),
    status: 'final',
    type: { coding: [{ system: LOINC, code: '60591-5', display: 'Patient summary Document' }] },
    subject,
    date: model.generatedAt,
    author: [subject],
    title: 'Patient summary',
    confidentiality: 'N',
    ...(model.from || model.to ? { event: [{ period: { ...(model.from ? { start: model.from } : {}), ...(model.to ? { end: model.to } : {}) } }] } : {}),
    section: sections,
  };
  return {
    resourceType: 'Bundle',
    identifier: { system: 'urn:ietf:rfc:3986', value: newUrl() },
    type: 'document',
    timestamp: model.generatedAt,
    entry: [{ fullUrl: compositionUrl, resource: composition }, { fullUrl: patientUrl, resource: patient }, ...entries],
  };
}

const FLAG_CODE: Record<string, string> = { low: 'L', high: 'H', normal: 'N', abnormal: 'A' };

/** Vault type codes are bare LOINC for LOINC; HealthKit identifiers have no FHIR system, so they stay text. */
function codeOf(code: string, name: string): Res {
  return /^\d{1,7}-\d$/.test(code) ? { coding: [{ system: LOINC, code }], text: name } : { text: name };
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}
