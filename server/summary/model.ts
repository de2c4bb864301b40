/**
 * What a patient summary says, gathered once from the vault and then written out as a PDF
 * (pdf.ts) or an IPS document Bundle (ips.ts). Only the chosen sections are read.
 */
import type { ClinicalEntry, ClinicalKind, ClinicalService } from '../services/clinical.service.js';
import { lineDays } from '../services/health/metric-lines.js';
import type { ItemsService } from '../services/items.service.js';
import type { SessionContext } from '../services/keyring.js';
import type { LabPoint, LabsService, UnitPreference } from '../services/labs.service.js';
import { METRICS } from '../services/health/metrics.js';
import type { SeriesService } from '../services/series.service.js';

export const SECTIONS = ['problems', 'medications', 'allergies', 'immunizations', 'results', 'vitals', 'procedures'] as const;
export type SectionKey = (typeof SECTIONS)[number];

export interface VitalSummary {
  title: string;
  label: string;
  code: string;
  /** The LOINC code of this vital sign, whatever code the data was stored under. */
  loinc?: string;
  unit: string;
  latest: { date: string; value: number };
  mean: number;
  min: number;
  max: number;
  days: number;
  from: string;
  to: string;
}

export interface SummaryModel {
  generatedAt: string;
  from?: string;
  to?: string;
  sections: SectionKey[];
  patient?: { name?: string; gender?: string; birthDate?: string };
  problems?: ClinicalEntry[];
  medications?: ClinicalEntry[];
  allergies?: ClinicalEntry[];
  immunizations?: ClinicalEntry[];
  procedures?: ClinicalEntry[];
  results?: Array<LabPoint & { code: string; name: string; panel: string }>;
  vitals?: VitalSummary[];
}

const CLINICAL: Partial<Record<SectionKey, ClinicalKind>> = {
  problems: 'conditions',
  medications: 'medications',
  allergies: 'allergies',
  immunizations: 'immunizations',
  procedures: 'procedures',
};

/** What is ongoing is always relevant; what ended counts only inside the period. */
const ONGOING = new Set(['current', 'active']);

export interface SummaryDeps {
  items: ItemsService;
  clinical: ClinicalService;
  labs: LabsService;
  series: SeriesService;
}

export async function gatherSummary(
  deps: SummaryDeps,
  session: SessionContext,
  q: { sections: SectionKey[]; from?: string; to?: string },
  preferred: UnitPreference,
  now = new Date(),
): Promise<SummaryModel> {
  const { from, to } = q;
  // The period's dates are the records' own (source-day.ts): both inclusive.
  const inPeriod = (day: string | null | undefined) => {
    if (!day) return !from && !to;
    return (!from || day >= from) && (!to || day <= to);
  };
  const model: SummaryModel = { generatedAt: now.toISOString(), sections: SECTIONS.filter((s) => q.sections.includes(s)) };
  if (q.from) model.from = q.from;
  if (q.to) model.to = q.to;

  const [patient] = await deps.items.recent(session, { tags: ['patient'], limit: 1 });
  const pd = patient?.data ?? {};
  if (patient) {
    model.patient = {};
    if (typeof pd.name === 'string') model.patient.name = pd.name;
    if (typeof pd.gender === 'string') model.patient.gender = pd.gender;
    if (typeof pd.birthDate === 'string') model.patient.birthDate = pd.birthDate;
  }

  for (const s of model.sections) {
    const kind = CLINICAL[s];
    if (kind) {
      const all = await deps.clinical.list(session, kind);
      (model as unknown as Record<string, ClinicalEntry[]>)[s] = all.filter((e) => ONGOING.has(e.group) || inPeriod(e.day ?? e.date?.slice(0, 10)));
    }
  }
  if (model.sections.includes('results')) model.results = await deps.labs.latest(session, { from, to }, preferred);
  if (model.sections.includes('vitals')) model.vitals = await vitals(deps.series, session, q.from, q.to, now);
  return model;
}

/**
 * Daily statistics of each vital sign over the period (the last year when none is given), from
 * every code its sources write it under, merged per day (health/metric-lines.ts `lineDays`): a hand
 * entry must not hide an import's readings, nor an import a hand entry. `latest` is the latest
 * day across them all, and `code` the code that day's data came under.
 */
async function vitals(series: SeriesService, session: SessionContext, from: string | undefined, to: string | undefined, now: Date): Promise<VitalSummary[]> {
  const end = to ?? now.toISOString().slice(0, 10);
  const start = from ?? new Date(Date.parse(`${end}T00:00:00Z`) - 364 * 86_400_000).toISOString().slice(0, 10);
  const out: VitalSummary[] = [];
  for (const m of METRICS.filter((x) => x.vital)) {
    for (const s of m.series) {
      const line = await lineDays(series, session, s.codes, start, end, m.stat);
      if (!line?.days.length) continue;
      const last = line.days.at(-1)!;
      const means = line.days.map((d) => d.mean);
      const loinc = s.codes.find(isLoinc);
      out.push({
        title: m.title,
        label: s.label,
        code: line.code,
        ...(loinc ? { loinc } : {}),
        unit: line.unit ?? '',
        latest: { date: last.date, value: last.mean },
        mean: means.reduce((a, b) => a + b, 0) / means.length,
        min: Math.min(...line.days.map((d) => d.min)),
        max: Math.max(...line.days.map((d) => d.max)),
        days: line.days.length,
        from: line.days[0]!.date,
        to: last.date,
      });
    }
  }
  return out;
}

const isLoinc = (c: string) => /^\d{1,7}-\d$/.test(c);
