import { z } from 'zod';
import { isRealDate, LocalDate } from './common.js';

// ---- series ----

export const SeriesQuery = z.object({ type: z.string().min(1).max(200), from: LocalDate.optional(), to: LocalDate.optional() });

export const SeriesDay = z.object({ date: z.string(), count: z.number(), min: z.number(), max: z.number(), mean: z.number(), sum: z.number() });
export type SeriesDay = z.infer<typeof SeriesDay>;

/** `GET /api/records/series`: daily statistics of one metric. `unit` is null when none is known. */
export const Series = z.object({ type: z.string(), unit: z.string().nullable(), days: z.array(SeriesDay) });
export type Series = z.infer<typeof Series>;

// ---- labs ----

export const Flag = z.enum(['low', 'high', 'normal', 'abnormal']);
export type Flag = z.infer<typeof Flag>;

/** A lab code in a path (`4548-4`, `http://loinc.org:4548-4`...). */
export const LabCode = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[\w.:-]+$/, 'must be a code such as 4548-4');

export const LabSummary = z.object({
  code: z.string(),
  name: z.string(),
  panel: z.string(),
  unit: z.string(),
  /** Results of the analyte, numeric and in words. */
  count: z.number(),
  /** The latest result in its own unit: `""` when the lab sent none, never `unit` unless it is in it. */
  latest: z.object({
    /** Absent exactly when `text` is set. */
    value: z.number().optional(),
    /** Set when the lab reported a bound ("<40"): `value` is the bound, not a measurement. */
    comparator: z.enum(['<', '<=', '>', '>=']).optional(),
    /** A result in words ("Negative"), from a coded or text value: it has no number, so `unit` is `""` and there is no trend. */
    text: z.string().optional(),
    unit: z.string(),
    date: z.string(),
    flag: Flag.optional(),
  }),
  /** Latest against the one before: up, down or flat (within 2 %); only when both are measured numbers in one unit. */
  trend: z.enum(['up', 'down', 'flat']).optional(),
});
export type LabSummary = z.infer<typeof LabSummary>;
export const LabsResponse = z.object({ labs: z.array(LabSummary) });

export const LabPoint = z.object({
  date: z.string(),
  value: z.number(),
  unit: z.string(),
  /** The calendar date of `date` as the source wrote it. */
  day: z.string().optional(),
  /** Set when the lab reported a bound ("<0.5"): `value` is the bound. */
  comparator: z.enum(['<', '<=', '>', '>=']).optional(),
  flag: Flag.optional(),
  itemId: z.string(),
  source: z.string(),
  low: z.number().optional(),
  high: z.number().optional(),
});
export type LabPoint = z.infer<typeof LabPoint>;

export const LabTrend = z.object({
  code: z.string(),
  name: z.string(),
  unit: z.string(),
  units: z.array(z.string()),
  panel: z.string(),
  referenceRange: z.object({ low: z.number().optional(), high: z.number().optional() }).optional(),
  points: z.array(LabPoint),
});
export type LabTrend = z.infer<typeof LabTrend>;
export const LabTrendParams = z.object({ code: LabCode });
export const LabTrendQuery = z.object({ unit: z.string().min(1).max(20).optional() });

// ---- dashboard ----

export const Resolution = z.enum(['day', 'week', 'month']);
export type Resolution = z.infer<typeof Resolution>;

export const DashboardPoint = z.object({
  /** First day of the day, ISO week (Monday) or month. */
  date: z.string(),
  /** Days with data in the period. */
  days: z.number(),
  count: z.number(),
  min: z.number(),
  max: z.number(),
  mean: z.number(),
  sum: z.number(),
});
export type DashboardPoint = z.infer<typeof DashboardPoint>;

export const DashboardCard = z.object({
  key: z.string(),
  title: z.string(),
  stat: z.enum(['mean', 'sum']),
  unit: z.string().nullable(),
  from: z.string(),
  to: z.string(),
  resolution: Resolution,
  /** First and last day with data, whatever range is shown. */
  first: z.string(),
  last: z.string(),
  series: z.array(z.object({ label: z.string(), code: z.string(), points: z.array(DashboardPoint) })),
});
export type DashboardCard = z.infer<typeof DashboardCard>;

export const Dashboard = z.object({
  /** Every metric with data, in the person's order, hidden ones included (for choosing). */
  available: z.array(
    z.object({
      key: z.string(),
      title: z.string(),
      first: z.string(),
      /** The last day with data on or before today; the last day at all when every one is later. */
      last: z.string(),
      /** The last day with data after today (a source's typo such as 2999-12-31): no default range reaches it. */
      later: z.string().optional(),
    }),
  ),
  cards: z.array(DashboardCard),
});
export type Dashboard = z.infer<typeof Dashboard>;
export const DashboardQuery = z.object({ from: LocalDate.optional(), to: LocalDate.optional() });

// ---- clinical lists ----

export const ClinicalKind = z.enum(['medications', 'allergies', 'conditions', 'immunizations', 'procedures']);
export type ClinicalKind = z.infer<typeof ClinicalKind>;

export const ClinicalSource = z.object({ itemId: z.string(), source: z.string() });
export type ClinicalSource = z.infer<typeof ClinicalSource>;

/** One entry of a clinical list: records of the same code and date from several sources, merged. */
export const ClinicalEntry = z.object({
  key: z.string(),
  name: z.string(),
  code: z.object({ system: z.string().optional(), code: z.string(), display: z.string().optional() }).optional(),
  date: z.string().nullable(),
  /** The calendar date of `date` as the source wrote it (an instant at 23:21 −05:00 is that day, not the next in UTC). */
  day: z.string().nullable().optional(),
  /** medications: current | past; conditions and allergies: active | resolved; immunizations: given | not-given. */
  group: z.string(),
  status: z.string().optional(),
  end: z.string().optional(),
  detail: z.string().optional(),
  criticality: z.string().optional(),
  reactions: z.array(z.string()).optional(),
  sources: z.array(ClinicalSource),
});
export type ClinicalEntry = z.infer<typeof ClinicalEntry>;
export const ClinicalParams = z.object({ kind: ClinicalKind });
export const ClinicalResponse = z.object({ entries: z.array(ClinicalEntry) });

// ---- preferences ----

/**
 * Dashboard cards, their order and display units. Which card keys exist is the server's
 * knowledge (its metric table), so it passes the key schema in; the shape is the same either way.
 */
export const preferencesSchema = <K extends z.ZodType<string>>(cardKey: K) =>
  z.object({
    /** Dashboard cards in the order shown; cards not listed follow in the default order. */
    cards: z.array(cardKey).max(40).optional(),
    /** Cards the person turned off; a metric that gains data later shows up unless it is here. */
    hidden: z.array(cardKey).max(40).optional(),
    units: z
      .object({
        weight: z.enum(['kg', 'lb']).optional(),
        distance: z.enum(['km', 'mi']).optional(),
        /** Glucose and cholesterol: mg/dL (US) or mmol/L (most of the world). */
        glucose: z.enum(['mg/dL', 'mmol/L']).optional(),
        hba1c: z.enum(['%', 'mmol/mol']).optional(),
      })
      .optional(),
  });
export type Preferences = z.infer<ReturnType<typeof preferencesSchema<z.ZodString>>>;

// ---- manual entries ----

/** A moment with its UTC offset, as the browser knows it: the offset decides the local day. */
const At = z.iso
  .datetime({ offset: true, message: 'must be a date and time with its offset (2026-06-01T08:30:00+01:00)' })
  .refine(isRealDate, 'must be a real date');
const Day = LocalDate;
const Text = (max: number) => z.string().trim().min(1).max(max);
const Note = z.string().trim().max(2000).optional();

/** `POST /api/records/manual` and `PUT /api/records/manual/:id`. */
export const ManualEntry = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('blood_pressure'),
      systolic: z.number().int().min(40).max(300),
      diastolic: z.number().int().min(20).max(200),
      at: At,
      note: Note,
    })
    .refine((e) => e.systolic > e.diastolic, { message: 'must be above the diastolic pressure', path: ['systolic'] }),
  z.object({ kind: z.literal('weight'), value: z.number().positive().max(700), unit: z.enum(['kg', 'lb']), at: At, note: Note }),
  z.object({ kind: z.literal('glucose'), value: z.number().positive().max(2000), unit: z.enum(['mg/dL', 'mmol/L']), at: At, note: Note }),
  z
    .object({ kind: z.literal('temperature'), value: z.number(), unit: z.enum(['Cel', '[degF]']), at: At, note: Note })
    // A body temperature: 25–45 °C, 77–113 °F (was one range for both, so 110 °C and 26 °F passed).
    .refine((e) => (e.unit === 'Cel' ? e.value >= 25 && e.value <= 45 : e.value >= 77 && e.value <= 113), {
      message: 'must be a body temperature: 25 to 45 in Cel, 77 to 113 in [degF]',
      path: ['value'],
    }),
  z
    .object({
      kind: z.literal('medication'),
      name: Text(200),
      dosage: z.string().trim().max(500).optional(),
      status: z.enum(['active', 'completed', 'stopped']),
      start: Day.optional(),
      end: Day.optional(),
      note: Note,
    })
    .refine((e) => !e.start || !e.end || e.end >= e.start, { message: 'must not be before start', path: ['end'] }),
  z.object({
    kind: z.literal('allergy'),
    substance: Text(200),
    reaction: z.string().trim().max(200).optional(),
    criticality: z.enum(['low', 'high', 'unable-to-assess']).optional(),
    status: z.enum(['active', 'resolved']).default('active'),
    onset: Day.optional(),
    note: Note,
  }),
  z
    .object({
      kind: z.literal('condition'),
      name: Text(200),
      status: z.enum(['active', 'resolved']),
      onset: Day.optional(),
      abatement: Day.optional(),
      note: Note,
    })
    .refine((e) => !e.onset || !e.abatement || e.abatement >= e.onset, { message: 'must not be before onset', path: ['abatement'] }),
]);
export type ManualEntry = z.infer<typeof ManualEntry>;
