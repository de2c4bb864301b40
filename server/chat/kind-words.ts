/** Words that name a kind of record ("meds", "lab results", "vaccines"), matched longest first. */
import { escapeRe, rx } from './phrase-match.js';

export type RecordKind =
  | 'medication'
  | 'allergy'
  | 'condition'
  | 'immunization'
  | 'laboratory'
  | 'vital-signs'
  | 'procedure'
  | 'encounter'
  | 'document'
  | 'note';

const KIND_PHRASES: Array<[string, RecordKind]> = [
  ['medications', 'medication'], ['medication', 'medication'], ['meds', 'medication'],
  ['medicines', 'medication'], ['medicine', 'medication'], ['prescriptions', 'medication'],
  ['prescription', 'medication'], ['prescribed', 'medication'], ['drugs', 'medication'],
  ['allergies', 'allergy'], ['allergy', 'allergy'], ['allergic', 'allergy'],
  ['conditions', 'condition'], ['condition', 'condition'], ['diagnoses', 'condition'], ['diagnosis', 'condition'],
  ['diagnosed', 'condition'], ['problems', 'condition'], ['health problems', 'condition'],
  ['immunizations', 'immunization'], ['immunization', 'immunization'],
  ['immunisations', 'immunization'], ['immunisation', 'immunization'],
  ['vaccines', 'immunization'], ['vaccine', 'immunization'], ['vaccinations', 'immunization'],
  ['vaccination', 'immunization'], ['vaccinated', 'immunization'], ['shots', 'immunization'],
  ['jabs', 'immunization'], ['shot', 'immunization'], ['jab', 'immunization'], ['booster', 'immunization'], ['boosters', 'immunization'],
  ['labs', 'laboratory'], ['lab', 'laboratory'], ['lab results', 'laboratory'],
  ['lab result', 'laboratory'], ['lab tests', 'laboratory'], ['lab test', 'laboratory'],
  ['test results', 'laboratory'], ['tests', 'laboratory'], ['test', 'laboratory'], ['blood work', 'laboratory'],
  ['bloodwork', 'laboratory'], ['blood tests', 'laboratory'], ['blood test', 'laboratory'],
  ['vitals', 'vital-signs'], ['vital signs', 'vital-signs'],
  ['procedures', 'procedure'], ['procedure', 'procedure'], ['surgery', 'procedure'],
  ['surgeries', 'procedure'], ['operations', 'procedure'], ['operation', 'procedure'],
  ['visits', 'encounter'], ['visit', 'encounter'], ['appointments', 'encounter'],
  ['appointment', 'encounter'], ['encounters', 'encounter'], ['encounter', 'encounter'],
  ['documents', 'document'], ['document', 'document'], ['files', 'document'],
  ['notes', 'note'], ['note', 'note'],
];

export const KIND_RULES = [...KIND_PHRASES]
  .sort((a, b) => b[0].length - a[0].length)
  .map(([s, kind]) => ({ re: rx(escapeRe(s)), kind }));
