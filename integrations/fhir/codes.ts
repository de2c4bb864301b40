/**
 * Code systems: the record `type` rules of `integrations/types.ts`, readable names for codes,
 * and a small LOINC table for the measurements people look at most.
 */
import { type Json, objs, sha256Hex, str, table } from './util.js';

/** A coding reduced to what the vault keeps. */
export interface CodeRef {
  system?: string;
  code: string;
  display?: string;
}

interface SystemInfo {
  /** Prefix in record types ("snomed:44054006"); '' for LOINC, which is written bare. */
  prefix: string;
  /** Name in readable text ("SNOMED CT 44054006"). */
  label: string;
}

/**
 * Known systems, in order of preference when a concept carries several codings: LOINC is the
 * lingua franca of observations and documents, SNOMED CT of clinical findings, RxNorm of drugs,
 * CVX of vaccines; billing codes (ICD-10, CPT, NDC) only when nothing better is there.
 */
const SYSTEMS: Array<[string, SystemInfo]> = [
  ['http://loinc.org', { prefix: '', label: 'LOINC' }],
  ['http://snomed.info/sct', { prefix: 'snomed', label: 'SNOMED CT' }],
  ['http://www.nlm.nih.gov/research/umls/rxnorm', { prefix: 'rxnorm', label: 'RxNorm' }],
  ['http://hl7.org/fhir/sid/cvx', { prefix: 'cvx', label: 'CVX' }],
  ['http://hl7.org/fhir/sid/icd-10-cm', { prefix: 'icd10', label: 'ICD-10-CM' }],
  ['http://hl7.org/fhir/sid/icd-10', { prefix: 'icd10who', label: 'ICD-10' }],
  ['http://hl7.org/fhir/sid/icd-9-cm', { prefix: 'icd9', label: 'ICD-9-CM' }],
  ['http://www.ama-assn.org/go/cpt', { prefix: 'cpt', label: 'CPT' }],
  ['http://hl7.org/fhir/sid/ndc', { prefix: 'ndc', label: 'NDC' }],
  ['urn:oid:2.16.840.1.113883.6.285', { prefix: 'hcpcs', label: 'HCPCS' }],
];
const SYSTEM_BY_URI = new Map(SYSTEMS);
const SYSTEM_RANK = new Map(SYSTEMS.map(([uri], i) => [uri, i]));

/**
 * Other URIs that name the same systems (OIDs, old spellings); normalised before lookup.
 */
const ALIASES = table<string>({
  'urn:oid:2.16.840.1.113883.6.1': 'http://loinc.org',
  'urn:oid:2.16.840.1.113883.6.96': 'http://snomed.info/sct',
  'urn:oid:2.16.840.1.113883.6.88': 'http://www.nlm.nih.gov/research/umls/rxnorm',
  'urn:oid:2.16.840.1.113883.12.292': 'http://hl7.org/fhir/sid/cvx',
  'urn:oid:2.16.840.1.113883.6.90': 'http://hl7.org/fhir/sid/icd-10-cm',
  'urn:oid:2.16.840.1.113883.6.12': 'http://www.ama-assn.org/go/cpt',
  'urn:oid:2.16.840.1.113883.6.69': 'http://hl7.org/fhir/sid/ndc',
  'http://www.nlm.nih.gov/research/umls/rxnorm/': 'http://www.nlm.nih.gov/research/umls/rxnorm',
  'https://loinc.org': 'http://loinc.org',
});

function normaliseSystem(system: string | undefined): string | undefined {
  if (!system) return undefined;
  return ALIASES[system] ?? system;
}

/** Codings of a CodeableConcept (or of a bare Coding), with system URIs normalised. */
export function codingsOf(concept: unknown): CodeRef[] {
  const c = concept as Json | undefined;
  const list = c && Array.isArray(c.coding) ? objs(c.coding) : c && str(c.code) ? [c] : [];
  const out: CodeRef[] = [];
  for (const coding of list) {
    const code = str(coding.code);
    if (!code) continue;
    const ref: CodeRef = { code };
    const system = normaliseSystem(str(coding.system));
    if (system) ref.system = system;
    const display = str(coding.display);
    if (display) ref.display = display;
    out.push(ref);
  }
  return out;
}

/**
 * The record type for one coding. Known systems get their short prefix (LOINC bare). Any other
 * system becomes `sys-<first 12 hex of SHA-256(system URI)>:<code>`: stable across imports, and
 * it keeps the URI out of the plaintext type column, because local systems such as Epic's
 * `urn:oid:1.2.840.114350.…` name the hospital that sent the record. Codes without a system
 * carry no meaning outside their sender and give undefined.
 */
export function typeForCoding(c: CodeRef): string | undefined {
  if (!c.system) return undefined;
  const known = SYSTEM_BY_URI.get(c.system);
  if (known) return known.prefix === '' ? c.code : `${known.prefix}:${c.code}`;
  return `sys-${sha256Hex(c.system).slice(0, 12)}:${c.code}`;
}

/** The preferred coding of a concept: known systems by rank, then the first one with a system. */
export function primaryCoding(concept: unknown): CodeRef | undefined {
  const list = codingsOf(concept).filter((c) => c.system);
  let best: CodeRef | undefined;
  let bestRank = Infinity;
  for (const c of list) {
    const rank = SYSTEM_RANK.get(c.system as string) ?? SYSTEMS.length;
    if (rank < bestRank) {
      best = c;
      bestRank = rank;
    }
  }
  return best;
}

/** Record type of the first concept that has a usable code, else `fhir:<ResourceType>`. */
export function typeForConcepts(concepts: unknown[], resourceType: string): string {
  for (const concept of concepts) {
    const c = primaryCoding(concept);
    const t = c && typeForCoding(c);
    if (t) return t;
  }
  return `fhir:${resourceType}`;
}

/** "SNOMED CT 39065001 (Burn of ear)": one coding as readable text. */
export function describeCoding(c: CodeRef): string {
  const info = c.system ? SYSTEM_BY_URI.get(c.system) : undefined;
  const label = info?.label ?? (c.system ? shortSystem(c.system) : undefined);
  const head = label ? `${label} ${c.code}` : c.code;
  return c.display ? `${head} (${c.display})` : head;
}

/** A short readable label for a system URI not in the table (last path segment). */
function shortSystem(system: string): string {
  if (system.startsWith('urn:oid:')) return `OID ${system.slice(8)}`;
  const tail = system
    .replace(/[/#]+$/, '')
    .split(/[/#]/)
    .pop();
  return tail && tail !== '' ? tail : system;
}

/** Every coding of the given concepts, as text ("LOINC 718-7 (Hemoglobin …); …"). */
export function describeCodes(concepts: unknown[]): string | undefined {
  const all = concepts.flatMap(codingsOf);
  return all.length ? all.map(describeCoding).join('; ') : undefined;
}

/**
 * A readable name for a concept: its `text` unless that looks like a machine key
 * ("heart_rate") and a display exists, else the preferred coding's display, else any display, else a code.
 */
export function conceptName(concept: unknown): string | undefined {
  const c = concept as Json | undefined;
  const text = c ? str(c.text) : undefined;
  // All-lowercase keys such as "heart_rate" or "weight" are labels for software, not people.
  const machineKey = text !== undefined && /^[a-z0-9_]+$/.test(text);
  if (text && !(machineKey && codingsOf(concept).some((x) => x.display))) return text;
  const primary = primaryCoding(concept);
  if (primary?.display) return primary.display;
  const any = codingsOf(concept).find((x) => x.display);
  if (any?.display) return any.display;
  return text ?? primary?.code ?? codingsOf(concept)[0]?.code;
}

/**
 * Drops SNOMED CT's semantic tag ("Burn of ear (disorder)" -> "Burn of ear") for titles; the
 * full display stays in the text.
 */
export function stripSemanticTag(name: string): string {
  return name
    .replace(
      /\s+\((finding|disorder|procedure|substance|product|organism|situation|regime\/therapy|observable entity|morphologic abnormality|body structure|qualifier value|medicinal product|clinical drug|edible|event|physical object|record artifact)\)$/i,
      '',
    )
    .trim();
}

/** What the vault knows about a common LOINC code. */
export interface LoincInfo {
  /** Short readable name for titles ("Hemoglobin"). */
  name: string;
  /** A cross-source metric key for charts, where one applies ("heart_rate"). */
  metric?: string;
}

const LOINC = table<LoincInfo>({
  '85354-9': { name: 'Blood pressure', metric: 'blood_pressure' },
  '55284-4': { name: 'Blood pressure', metric: 'blood_pressure' },
  '8480-6': { name: 'Systolic blood pressure', metric: 'blood_pressure_systolic' },
  '8462-4': { name: 'Diastolic blood pressure', metric: 'blood_pressure_diastolic' },
  '8478-0': { name: 'Mean blood pressure' },
  '8867-4': { name: 'Heart rate', metric: 'heart_rate' },
  '9279-1': { name: 'Respiratory rate', metric: 'respiratory_rate' },
  '8310-5': { name: 'Body temperature', metric: 'body_temperature' },
  '29463-7': { name: 'Body weight', metric: 'body_weight' },
  '3141-9': { name: 'Body weight', metric: 'body_weight' },
  '8302-2': { name: 'Body height', metric: 'body_height' },
  '39156-5': { name: 'BMI', metric: 'bmi' },
  '59408-5': { name: 'Oxygen saturation', metric: 'oxygen_saturation' },
  '2708-6': { name: 'Oxygen saturation', metric: 'oxygen_saturation' },
  '9843-4': { name: 'Head circumference', metric: 'head_circumference' },
  '8287-5': { name: 'Head circumference', metric: 'head_circumference' },
  '41950-7': { name: 'Steps', metric: 'steps' },
  '55423-8': { name: 'Steps', metric: 'steps' },
  '72514-3': { name: 'Pain severity (0–10)', metric: 'pain_score' },
  '2339-0': { name: 'Glucose', metric: 'blood_glucose' },
  '2345-7': { name: 'Glucose', metric: 'blood_glucose' },
  '4548-4': { name: 'Hemoglobin A1c', metric: 'hba1c' },
  '718-7': { name: 'Hemoglobin' },
  '6690-2': { name: 'Leukocytes' },
  '789-8': { name: 'Erythrocytes' },
  '4544-3': { name: 'Hematocrit' },
  '777-3': { name: 'Platelets' },
  '787-2': { name: 'MCV' },
  '785-6': { name: 'MCH' },
  '786-4': { name: 'MCHC' },
  '2093-3': { name: 'Total cholesterol' },
  '2085-9': { name: 'HDL cholesterol' },
  '18262-6': { name: 'LDL cholesterol' },
  '13457-7': { name: 'LDL cholesterol' },
  '2571-8': { name: 'Triglycerides' },
  '2160-0': { name: 'Creatinine' },
  '33914-3': { name: 'eGFR' },
  '62238-1': { name: 'eGFR' },
  '98979-8': { name: 'eGFR' },
  '3094-0': { name: 'Urea nitrogen' },
  '2951-2': { name: 'Sodium' },
  '2823-3': { name: 'Potassium' },
  '2075-0': { name: 'Chloride' },
  '2028-9': { name: 'Carbon dioxide' },
  '17861-6': { name: 'Calcium' },
  '1742-6': { name: 'ALT' },
  '1920-8': { name: 'AST' },
  '3016-3': { name: 'TSH' },
  '72166-2': { name: 'Tobacco smoking status' },
});

/** Short name and metric key for a common LOINC code, or undefined. */
export function metricForLoinc(code: string): LoincInfo | undefined {
  return LOINC[code];
}

/** Short name for a concept whose primary coding is a LOINC code in the table. */
export function loincShortName(concept: unknown): string | undefined {
  const loinc = codingsOf(concept).find((c) => c.system === 'http://loinc.org' && LOINC[c.code]);
  return loinc ? LOINC[loinc.code]?.name : undefined;
}
