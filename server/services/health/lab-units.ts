/**
 * Lab codes matched across sources, and the unit conversions people switch between.
 *
 * The same test reaches the vault under different LOINC codes (a hospital sends fasting serum
 * glucose 2345-7, a meter's import blood glucose 2339-0; HbA1c comes as NGSP % under 4548-4 or
 * as IFCC mmol/mol under 59261-8), so a trend is drawn for a group of codes, keyed by its first.
 *
 * mg/dL <-> mmol/L is not a pure UCUM conversion: it needs the analyte's molar mass, which is
 * what UCUM libraries ask for as an extra argument; and % <-> mmol/mol for HbA1c is the IFCC-NGSP
 * master equation, not a unit conversion at all. So the few conversions clinicians use are
 * written out here with their sources, rather than pulled from a general unit library.
 */

import { MOLAR_MASS, type Substance } from '../../../integrations/series/units.js';

export interface LabGroup {
  /** The code a trend page is addressed by. */
  code: string;
  name: string;
  /** Every LOINC code that reports this analyte. */
  codes: string[];
  /** Panel the lab list groups it under. */
  panel: string;
  /** Conversion family, when the analyte has one. */
  convert?: 'glucose' | 'cholesterol' | 'triglycerides' | 'hba1c';
}

export const LAB_GROUPS: LabGroup[] = [
  { code: '2345-7', name: 'Glucose', codes: ['2345-7', '2339-0', '41653-7', '2340-8', '14749-6', '15074-8', '1558-6'], panel: 'Diabetes', convert: 'glucose' },
  { code: '4548-4', name: 'Hemoglobin A1c', codes: ['4548-4', '17856-6', '59261-8', '41995-2'], panel: 'Diabetes', convert: 'hba1c' },
  { code: '2093-3', name: 'Total cholesterol', codes: ['2093-3', '14647-2'], panel: 'Lipids', convert: 'cholesterol' },
  { code: '2085-9', name: 'HDL cholesterol', codes: ['2085-9', '14646-4'], panel: 'Lipids', convert: 'cholesterol' },
  { code: '18262-6', name: 'LDL cholesterol', codes: ['18262-6', '13457-7', '2089-1', '22748-8', '39469-2'], panel: 'Lipids', convert: 'cholesterol' },
  { code: '2571-8', name: 'Triglycerides', codes: ['2571-8', '14927-8'], panel: 'Lipids', convert: 'triglycerides' },
  { code: '718-7', name: 'Hemoglobin', codes: ['718-7'], panel: 'Complete blood count' },
  { code: '6690-2', name: 'Leukocytes', codes: ['6690-2', '26464-8'], panel: 'Complete blood count' },
  { code: '789-8', name: 'Erythrocytes', codes: ['789-8', '26453-1'], panel: 'Complete blood count' },
  { code: '4544-3', name: 'Hematocrit', codes: ['4544-3', '20570-8'], panel: 'Complete blood count' },
  { code: '777-3', name: 'Platelets', codes: ['777-3', '26515-7'], panel: 'Complete blood count' },
  { code: '787-2', name: 'MCV', codes: ['787-2'], panel: 'Complete blood count' },
  { code: '785-6', name: 'MCH', codes: ['785-6'], panel: 'Complete blood count' },
  { code: '786-4', name: 'MCHC', codes: ['786-4'], panel: 'Complete blood count' },
  { code: '2160-0', name: 'Creatinine', codes: ['2160-0', '38483-4'], panel: 'Kidney' },
  { code: '33914-3', name: 'eGFR', codes: ['33914-3', '62238-1', '98979-8', '48642-3', '48643-1', '50044-7'], panel: 'Kidney' },
  { code: '3094-0', name: 'Urea nitrogen', codes: ['3094-0', '6299-2'], panel: 'Kidney' },
  { code: '2951-2', name: 'Sodium', codes: ['2951-2', '2947-0'], panel: 'Electrolytes' },
  { code: '2823-3', name: 'Potassium', codes: ['2823-3', '6298-4'], panel: 'Electrolytes' },
  { code: '2075-0', name: 'Chloride', codes: ['2075-0', '2069-3'], panel: 'Electrolytes' },
  { code: '2028-9', name: 'Carbon dioxide', codes: ['2028-9', '20565-8'], panel: 'Electrolytes' },
  { code: '17861-6', name: 'Calcium', codes: ['17861-6', '49765-1'], panel: 'Electrolytes' },
  { code: '1742-6', name: 'ALT', codes: ['1742-6', '1743-4'], panel: 'Liver' },
  { code: '1920-8', name: 'AST', codes: ['1920-8', '30239-8'], panel: 'Liver' },
  { code: '3016-3', name: 'TSH', codes: ['3016-3', '11580-8'], panel: 'Thyroid' },
];

const BY_CODE = new Map<string, LabGroup>();
for (const g of LAB_GROUPS) for (const c of g.codes) BY_CODE.set(c, g);

/** The group a code belongs to; an unknown code is a group of its own. */
export function labGroup(code: string, name?: string): LabGroup {
  return BY_CODE.get(code) ?? { code, name: name ?? code, codes: [code], panel: 'Other results' };
}

/**
 * Unit spellings as sources write them, reduced to UCUM: Epic writes "mg/dl", Apple's clinical
 * records "mmol/l", some labs "mmol/mol Hb"; UCUM's case-sensitive forms are mg/dL and mmol/L.
 */
export function ucumOf(unit: string | undefined | null): string | undefined {
  if (!unit) return undefined;
  const u = unit.trim();
  const lower = u.toLowerCase().replace(/\s+/g, '');
  const known: Record<string, string> = {
    'mg/dl': 'mg/dL',
    'mmol/l': 'mmol/L',
    'mmol/mol': 'mmol/mol',
    'mmol/molhb': 'mmol/mol',
    '%': '%',
    '%hb': '%',
    'g/dl': 'g/dL',
    'g/l': 'g/L',
    'umol/l': 'umol/L',
    'µmol/l': 'umol/L',
    mmhg: 'mm[Hg]',
    'mm[hg]': 'mm[Hg]',
  };
  return known[lower] ?? u;
}

/** mg/dL per mmol/L: the molar mass (integrations/series/units.ts, which the series' day merge uses too) over 10 dL/L. */
const mgDlPerMmolL = (s: Substance): number => MOLAR_MASS[s] / 10;

/** Units a group can be shown in, the first being its usual one. */
export function unitsFor(group: LabGroup): string[] {
  if (group.convert === 'hba1c') return ['%', 'mmol/mol'];
  if (group.convert) return ['mg/dL', 'mmol/L'];
  return [];
}

/**
 * `value` in `from` expressed in `to` for this group, or undefined when no conversion applies.
 * HbA1c uses the IFCC-NGSP master equation: NGSP % = 0.09148 x IFCC mmol/mol + 2.152.
 */
export function convert(group: LabGroup, value: number, from: string | undefined, to: string): number | undefined {
  const f = ucumOf(from);
  if (f === to) return value;
  if (!f) return undefined;
  if (group.convert === 'hba1c') {
    if (f === '%' && to === 'mmol/mol') return (value - 2.152) / 0.09148;
    if (f === 'mmol/mol' && to === '%') return 0.09148 * value + 2.152;
    return undefined;
  }
  if (!group.convert) return undefined;
  const k = mgDlPerMmolL(group.convert);
  if (f === 'mg/dL' && to === 'mmol/L') return value / k;
  if (f === 'mmol/L' && to === 'mg/dL') return value * k;
  return undefined;
}

/** Rounds a converted value to what a lab report prints (mmol/L 2 decimals, % 1, mg/dL and mmol/mol whole). */
export function roundFor(unit: string, value: number): number {
  const digits = unit === 'mmol/L' ? 2 : unit === '%' ? 1 : unit === 'mg/dL' || unit === 'mmol/mol' ? 0 : 3;
  const p = 10 ** digits;
  return Math.round(value * p) / p;
}

/**
 * Multiplier between two units of one analyte's series where plain unit arithmetic has none
 * (a day of glucose in mmol/L among days in mg/dL), or undefined.
 */
export function analyteFactor(type: string, from: string, to: string): number | undefined {
  const group = BY_CODE.get(type) ?? (type === 'HKQuantityTypeIdentifierBloodGlucose' ? BY_CODE.get('2339-0') : undefined);
  if (!group?.convert || group.convert === 'hba1c') return undefined;
  const v = convert(group, 1, from, ucumOf(to) ?? to);
  return v === undefined ? undefined : v;
}
