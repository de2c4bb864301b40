/**
 * Whether a record stored before FHIR ids named their server (`Observation/1`, origin unknown)
 * could be an earlier version of an incoming resource with that type and id. Ids are unique only
 * within one server, so the stored one may be another hospital's `Observation/1`: a resource's
 * code hardly ever changes between its versions (a correction changes its value or status), so
 * two disjoint codes mean two resources, and the stored one must not be replaced.
 */
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The element naming what a resource is about, by type; `code` for most. */
const CODE_ELEMENT: Record<string, string> = {
  MedicationRequest: 'medicationCodeableConcept',
  MedicationStatement: 'medicationCodeableConcept',
  Immunization: 'vaccineCode',
};

function codesOf(resource: Obj): Set<string> {
  const concept = resource[CODE_ELEMENT[String(resource.resourceType)] ?? 'code'];
  const out = new Set<string>();
  if (!isObj(concept)) return out;
  for (const c of Array.isArray(concept.coding) ? concept.coding : [concept.coding]) {
    if (isObj(c) && typeof c.code === 'string' && c.code.trim()) out.add(`${typeof c.system === 'string' ? c.system.trim() : ''}|${c.code.trim()}`);
  }
  if (out.size === 0 && typeof concept.text === 'string' && concept.text.trim()) out.add(`text|${concept.text.trim().toLowerCase()}`);
  return out;
}

/** False only when both hold a FHIR resource and they are of other types or name disjoint codes. */
export function couldBeSameResource(stored: Record<string, unknown> | undefined, incoming: Record<string, unknown> | undefined): boolean {
  const a = stored?.resource;
  const b = incoming?.resource;
  if (!isObj(a) || !isObj(b)) return true;
  if (a.resourceType !== b.resourceType) return false;
  const ca = codesOf(a);
  const cb = codesOf(b);
  if (ca.size === 0 || cb.size === 0) return true;
  for (const c of ca) if (cb.has(c)) return true;
  return false;
}
