/** Shapes of the health view routes (server/routes/records/health.ts), from the API contract. */
export type { ClinicalEntry, Dashboard, DashboardCard, DashboardPoint, Flag, LabPoint, LabSummary, LabTrend, Preferences } from '../../../../contract/index.js';

/** UCUM units people know by another name. */
const UNIT_WORDS: Record<string, string> = {
  '/min': 'bpm',
  'count/min': 'bpm',
  '{beats}/min': 'bpm',
  '{breaths}/min': 'breaths/min',
  'mm[Hg]': 'mmHg',
  Cel: '°C',
  '[degF]': '°F',
  count: '',
  '1': '',
  '{count}': '',
  '{steps}': '',
  'kg/m2': 'kg/m²',
};

/**
 * UCUM as people read it: "[mi_i]" is "mi", "[lb_av]" is "lb", a bare count has no unit. A code
 * in square brackets never reaches the screen as it is.
 */
export function unitLabel(u: string | null | undefined): string {
  if (!u) return '';
  const word = UNIT_WORDS[u];
  if (word !== undefined) return word;
  // Customary units: [mi_i], [lb_av], [in_i], [ft_i], [oz_av], [gal_us], [pt_br]...
  const customary = /^\[([a-z]+)_(?:i|av|us|br|tr|ap)\]$/i.exec(u);
  if (customary) return customary[1]!;
  // Other codes: drop the brackets and annotations ("{cells}/uL" is "/uL"), keep what is left.
  const plain = u.replace(/\{[^}]*\}/g, '').replace(/[[\]]/g, '');
  return plain === '1' ? '' : plain;
}

/**
 * A value as people read it: `digits` decimals at most, but a small value keeps two significant
 * digits instead of rounding to 0 (0.00438 mi is "0.0044", not "0").
 */
export function fmt(v: number, digits = 1): string {
  if (v !== 0 && Math.abs(v) < 1) return v.toLocaleString(undefined, { maximumSignificantDigits: Math.max(2, digits) });
  return v.toLocaleString(undefined, { maximumFractionDigits: digits });
}

/** A lab value in the unit the lab sent it in: one sent without a unit says so, never borrowing another's. */
export function labValue(value: number, unit: string): string {
  return `${fmt(value, 2)} ${unit || '(no unit)'}`;
}

/** "140 lb", "432" (no unit, no trailing space). */
export function withUnit(value: string, unit: string): string {
  return unit ? `${value} ${unit}` : value;
}
