/** Shapes of the health view routes (server/routes/records/health.ts). */
export type Flag = 'low' | 'high' | 'normal' | 'abnormal';

export interface LabSummary {
  code: string;
  name: string;
  panel: string;
  unit: string;
  count: number;
  latest: { value: number; date: string; flag?: Flag };
  trend?: 'up' | 'down' | 'flat';
}

export interface LabPoint {
  date: string;
  value: number;
  unit: string;
  flag?: Flag;
  itemId: string;
  source: string;
  low?: number;
  high?: number;
}

export interface LabTrend {
  code: string;
  name: string;
  unit: string;
  units: string[];
  panel: string;
  referenceRange?: { low?: number; high?: number };
  points: LabPoint[];
}

export interface DashboardPoint {
  date: string;
  days: number;
  count: number;
  min: number;
  max: number;
  mean: number;
  sum: number;
}

export interface DashboardCard {
  key: string;
  title: string;
  stat: 'mean' | 'sum';
  unit: string | null;
  from: string;
  to: string;
  resolution: 'day' | 'week' | 'month';
  first: string;
  last: string;
  series: Array<{ label: string; code: string; points: DashboardPoint[] }>;
}

export interface Dashboard {
  available: Array<{ key: string; title: string; first: string; last: string }>;
  cards: DashboardCard[];
}

export interface ClinicalEntry {
  key: string;
  name: string;
  code?: { system?: string; code: string; display?: string };
  date: string | null;
  group: string;
  status?: string;
  end?: string;
  detail?: string;
  criticality?: string;
  reactions?: string[];
  sources: Array<{ itemId: string; source: string }>;
}

export interface Preferences {
  cards?: string[];
  hidden?: string[];
  units?: { weight?: 'kg' | 'lb'; distance?: 'km' | 'mi'; glucose?: 'mg/dL' | 'mmol/L'; hba1c?: '%' | 'mmol/mol' };
}

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
