/** Shapes of the health view routes (server/routes/records/health.ts), from the API contract. */
export type { ClinicalEntry, Dashboard, DashboardCard, DashboardPoint, Flag, LabPoint, LabSummary, LabTrend, Preferences } from '../../../../contract/index.js';

/** UCUM as people read it. */
export function unitLabel(u: string | null | undefined): string {
  if (!u) return '';
  return (
    (
      { '/min': 'bpm', 'count/min': 'bpm', 'mm[Hg]': 'mmHg', '[lb_av]': 'lb', count: '', Cel: '°C', '[degF]': '°F', min: 'min', kcal: 'kcal' } as Record<
        string,
        string
      >
    )[u] ?? u
  );
}

export function fmt(v: number, digits = 1): string {
  return v.toLocaleString(undefined, { maximumFractionDigits: digits });
}
