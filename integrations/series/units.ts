/**
 * Converting a sample's value between the units one metric arrives in. Apple writes each record
 * in the unit its source or the person prefers, and that changes between devices, apps and
 * exports: body temperature in °C from a thermometer and °F from an app on the same day, water in
 * mL and US fluid ounces, weight in kg and stone, glucose in mg/dL and mmol/L. Units are UCUM as
 * the importers write them (build.ts `appleUnitToUcum`), plus the Apple spellings that pass through.
 */

/** `to = from × scale + offset`: an offset only for temperatures. */
export interface UnitConversion {
  scale: number;
  offset: number;
}

/** A unit to itself. */
export const SAME_UNIT: UnitConversion = { scale: 1, offset: 0 };

/**
 * Whether data says what unit it is in: stored without one ("", as the series answer an unknown
 * unit) or in FHIR's unity "1" it does not, and converts to or from nothing.
 */
export function hasUnit(unit: string | null): boolean {
  return unit !== null && unit !== '' && unit !== '1';
}

/** Each unit as [dimension's base unit, scale, offset]: `base = value × scale + offset`. */
const TO_BASE: Record<string, readonly [base: string, scale: number, offset: number]> = {
  // mass
  kg: ['kg', 1, 0],
  g: ['kg', 1e-3, 0],
  mg: ['kg', 1e-6, 0],
  ug: ['kg', 1e-9, 0],
  mcg: ['kg', 1e-9, 0],
  '[lb_av]': ['kg', 0.45359237, 0],
  lb: ['kg', 0.45359237, 0],
  '[oz_av]': ['kg', 0.028349523125, 0],
  oz: ['kg', 0.028349523125, 0],
  '[stone_av]': ['kg', 6.35029318, 0],
  st: ['kg', 6.35029318, 0],
  // length
  m: ['m', 1, 0],
  km: ['m', 1000, 0],
  cm: ['m', 0.01, 0],
  mm: ['m', 0.001, 0],
  '[mi_i]': ['m', 1609.344, 0],
  mi: ['m', 1609.344, 0],
  '[yd_i]': ['m', 0.9144, 0],
  '[ft_i]': ['m', 0.3048, 0],
  '[in_i]': ['m', 0.0254, 0],
  // volume
  L: ['L', 1, 0],
  dL: ['L', 0.1, 0],
  cL: ['L', 0.01, 0],
  mL: ['L', 0.001, 0],
  '[foz_us]': ['L', 0.0295735295625, 0],
  '[foz_br]': ['L', 0.0284130625, 0],
  fl_oz_imp: ['L', 0.0284130625, 0],
  '[cup_us]': ['L', 0.2365882365, 0],
  '[pt_us]': ['L', 0.473176473, 0],
  '[pt_br]': ['L', 0.56826125, 0],
  // energy
  kcal: ['kcal', 1, 0],
  Cal: ['kcal', 1, 0],
  cal: ['kcal', 0.001, 0],
  kJ: ['kcal', 1 / 4.184, 0],
  J: ['kcal', 1 / 4184, 0],
  // time
  s: ['s', 1, 0],
  ms: ['s', 0.001, 0],
  min: ['s', 60, 0],
  h: ['s', 3600, 0],
  d: ['s', 86400, 0],
  // temperature
  Cel: ['Cel', 1, 0],
  degC: ['Cel', 1, 0],
  '[degF]': ['Cel', 5 / 9, -160 / 9],
  degF: ['Cel', 5 / 9, -160 / 9],
  K: ['Cel', 1, -273.15],
  // pressure
  'mm[Hg]': ['mm[Hg]', 1, 0],
  mmHg: ['mm[Hg]', 1, 0],
  kPa: ['mm[Hg]', 7.500615613, 0],
  // rates (heart and respiratory rate): Apple's "count/min" is UCUM "/min", which the Apple
  // importer writes; vaults from before the Fitbit and Google importers wrote "/min" hold both.
  '/min': ['/min', 1, 0],
  'count/min': ['/min', 1, 0],
  '{beats}/min': ['/min', 1, 0],
  '{beat}/min': ['/min', 1, 0],
  '{breaths}/min': ['/min', 1, 0],
  '/s': ['/min', 60, 0],
  'count/s': ['/min', 60, 0],
  '/h': ['/min', 1 / 60, 0],
  'count/h': ['/min', 1 / 60, 0],
};

/**
 * The one spelling of units written more than one way for the same thing, so a series that holds
 * both reads as one: Apple's and Fitbit's "count/min" is UCUM "/min".
 */
const CANONICAL: Record<string, string> = {
  'count/min': '/min',
  '{beats}/min': '/min',
  '{beat}/min': '/min',
  '{breaths}/min': '/min',
  'count/s': '/s',
  'count/h': '/h',
  mmHg: 'mm[Hg]',
  degC: 'Cel',
  degF: '[degF]',
  lb: '[lb_av]',
  Cal: 'kcal',
};

/** The canonical (UCUM) spelling of a unit that has several; others are returned as they are. */
export const canonicalUnit = (unit: string): string => CANONICAL[unit] ?? unit;

/**
 * Molar masses (g/mol) of what is measured both by mass and by amount of substance: glucose
 * 180.156; cholesterol 386.65 (1 mmol/L = 38.67 mg/dL, the factor labs use for total, HDL and LDL
 * alike); triglycerides as triolein, 885.7 (1 mmol/L = 88.57 mg/dL), clinical chemistry's
 * convention. Apple writes glucose as `mg/dL` or `mmol<180.1558800000541>/L`.
 */
export const MOLAR_MASS = { glucose: 180.156, cholesterol: 386.65, triglycerides: 885.7 } as const;
export type Substance = keyof typeof MOLAR_MASS;

/**
 * The series types that measure such a substance: Apple's glucose and the LOINC codes labs,
 * meters and hand entries report it under, in mass and in substance units alike (one day may
 * hold a meter's mmol/L and a lab's mg/dL).
 */
const SUBSTANCE_OF = new Map<string, Substance>([
  ['HKQuantityTypeIdentifierBloodGlucose', 'glucose'],
  ...['2345-7', '2339-0', '41653-7', '2340-8', '14749-6', '15074-8', '1558-6'].map((c) => [c, 'glucose'] as const),
  ...['2093-3', '14647-2', '2085-9', '14646-4', '18262-6', '13457-7', '2089-1', '22748-8', '39469-2'].map((c) => [c, 'cholesterol'] as const),
  ...['2571-8', '14927-8'].map((c) => [c, 'triglycerides'] as const),
]);

/** The substance a series type measures, when it is one measured both ways. */
export const substanceOf = (type: string): Substance | undefined => SUBSTANCE_OF.get(type);

/** mg/dL per mmol/L for a substance of molar mass `m` g/mol: m mg/mmol over 10 dL/L. */
function molarConversion(type: string | undefined, from: string, to: string): UnitConversion | undefined {
  const substance = type === undefined ? undefined : SUBSTANCE_OF.get(type);
  const m = substance && MOLAR_MASS[substance];
  if (m === undefined) return undefined;
  if (from === 'mmol/L' && to === 'mg/dL') return { scale: m / 10, offset: 0 };
  if (from === 'mg/dL' && to === 'mmol/L') return { scale: 10 / m, offset: 0 };
  return undefined;
}

/** How a value in `from` reads in `to` (for metric `type`, where the substance matters), or undefined when they do not convert. */
export function unitConversion(from: string, to: string, type?: string): UnitConversion | undefined {
  if (from === to) return SAME_UNIT;
  const a = TO_BASE[from];
  const b = TO_BASE[to];
  if (a && b && a[0] === b[0]) return { scale: a[1] / b[1], offset: (a[2] - b[2]) / b[1] };
  return molarConversion(type, from, to);
}

export const convertValue = (v: number, c: UnitConversion): number => v * c.scale + c.offset;

/** Daily statistics in another unit: a sum of n values moves by n offsets. */
export function convertStats<S extends { count: number; min: number; max: number; mean: number; sum: number }>(s: S, c: UnitConversion): S {
  if (c.scale === 1 && c.offset === 0) return s;
  return { ...s, min: convertValue(s.min, c), max: convertValue(s.max, c), mean: convertValue(s.mean, c), sum: s.sum * c.scale + s.count * c.offset };
}
