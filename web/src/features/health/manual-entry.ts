/** The entry form's fields for a stored hand entry (its FHIR resource, as the server wrote it). */
export type ManualKind = 'blood_pressure' | 'weight' | 'glucose' | 'temperature' | 'medication' | 'allergy' | 'condition';

type Obj = Record<string, unknown>;
const o = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const a = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(o) : []);
const s = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const code = (r: Obj) => s(a(o(r.code).coding)[0]?.code);

/** "2026-06-02T00:30:00+02:00" -> "2026-06-02T00:30": the time as it was written, for datetime-local. */
const localInput = (iso: string) => iso.slice(0, 16);

export function entryFromResource(resource: unknown): { kind: ManualKind; fields: Record<string, string> } | null {
  const r = o(resource);
  const note = s(a(r.note)[0]?.text);
  const base: Record<string, string> = note ? { note } : {};
  if (r.resourceType === 'Observation') {
    const at = localInput(s(r.effectiveDateTime));
    const q = o(r.valueQuantity);
    switch (code(r)) {
      case '85354-9': {
        const c = a(r.component);
        const part = (lc: string) => s(o(c.find((x) => code(x) === lc)?.valueQuantity).value);
        return { kind: 'blood_pressure', fields: { ...base, at, systolic: part('8480-6'), diastolic: part('8462-4') } };
      }
      case '29463-7':
        return { kind: 'weight', fields: { ...base, at, value: s(q.value), unit: s(q.code) === '[lb_av]' ? 'lb' : 'kg' } };
      case '2339-0':
        return { kind: 'glucose', fields: { ...base, at, value: s(q.value), unit: s(q.code) } };
      case '8310-5':
        return { kind: 'temperature', fields: { ...base, at, value: s(q.value), unit: s(q.code) } };
      default:
        return null;
    }
  }
  if (r.resourceType === 'MedicationStatement') {
    const p = o(r.effectivePeriod);
    return {
      kind: 'medication',
      fields: { ...base, name: s(o(r.medicationCodeableConcept).text), dosage: s(a(r.dosage)[0]?.text), status: s(r.status), start: s(p.start), end: s(p.end) },
    };
  }
  if (r.resourceType === 'AllergyIntolerance') {
    return {
      kind: 'allergy',
      fields: {
        ...base,
        name: s(o(r.code).text),
        reaction: s(a(a(r.reaction)[0]?.manifestation)[0]?.text),
        criticality: s(r.criticality),
        status: code({ code: r.clinicalStatus }) || 'active',
      },
    };
  }
  if (r.resourceType === 'Condition') {
    return { kind: 'condition', fields: { ...base, name: s(o(r.code).text), status: code({ code: r.clinicalStatus }) || 'active', start: s(r.onsetDateTime) } };
  }
  return null;
}
