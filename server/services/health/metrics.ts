/**
 * The dashboard's cards: each a metric people watch, with every type code the sources write it
 * under (Apple and Google as HealthKit identifiers, FHIR and Epic as LOINC, hand entries as
 * LOINC), in the order cards appear until the person reorders them.
 */
export interface MetricSeries {
  label: string;
  /** Type codes of the same quantity from different sources, most common first. */
  codes: string[];
}

export interface MetricDef {
  key: string;
  title: string;
  /** `sum`: a daily total (steps); `mean`: a daily average with its min-max band. */
  stat: 'mean' | 'sum';
  series: MetricSeries[];
  /** Which preference converts its unit. */
  convert?: 'weight' | 'distance' | 'glucose' | 'temperature';
  /** Vital signs go into the patient summary. */
  vital?: boolean;
}

export const METRICS: MetricDef[] = [
  {
    key: 'resting_hr',
    title: 'Resting heart rate',
    stat: 'mean',
    vital: true,
    series: [{ label: 'Resting', codes: ['HKQuantityTypeIdentifierRestingHeartRate', '40443-4'] }],
  },
  {
    key: 'heart_rate',
    title: 'Heart rate',
    stat: 'mean',
    vital: true,
    series: [{ label: 'Heart rate', codes: ['HKQuantityTypeIdentifierHeartRate', '8867-4'] }],
  },
  {
    key: 'hrv',
    title: 'Heart-rate variability',
    stat: 'mean',
    series: [{ label: 'SDNN', codes: ['HKQuantityTypeIdentifierHeartRateVariabilitySDNN', '80404-7'] }],
  },
  {
    key: 'blood_pressure',
    title: 'Blood pressure',
    stat: 'mean',
    vital: true,
    series: [
      { label: 'Systolic', codes: ['8480-6', 'HKQuantityTypeIdentifierBloodPressureSystolic'] },
      { label: 'Diastolic', codes: ['8462-4', 'HKQuantityTypeIdentifierBloodPressureDiastolic'] },
    ],
  },
  {
    key: 'sleep',
    title: 'Sleep',
    stat: 'sum',
    // Minutes asleep per night, then the stages that make it up (where the source records them).
    series: [
      { label: 'Asleep', codes: ['HKCategoryTypeIdentifierSleepAnalysis'] },
      { label: 'Deep', codes: ['HKCategoryValueSleepAnalysisAsleepDeep'] },
      { label: 'Core', codes: ['HKCategoryValueSleepAnalysisAsleepCore'] },
      { label: 'REM', codes: ['HKCategoryValueSleepAnalysisAsleepREM'] },
      { label: 'Awake', codes: ['HKCategoryValueSleepAnalysisAwake'] },
    ],
  },
  {
    key: 'spo2',
    title: 'Blood oxygen',
    stat: 'mean',
    vital: true,
    series: [{ label: 'SpO₂', codes: ['HKQuantityTypeIdentifierOxygenSaturation', '59408-5', '2708-6'] }],
  },
  {
    key: 'respiratory_rate',
    title: 'Respiratory rate',
    stat: 'mean',
    vital: true,
    series: [{ label: 'Breaths', codes: ['HKQuantityTypeIdentifierRespiratoryRate', '9279-1'] }],
  },
  {
    key: 'glucose',
    title: 'Glucose',
    stat: 'mean',
    convert: 'glucose',
    series: [{ label: 'Glucose', codes: ['HKQuantityTypeIdentifierBloodGlucose', '2339-0', '2345-7'] }],
  },
  {
    key: 'weight',
    title: 'Weight',
    stat: 'mean',
    convert: 'weight',
    vital: true,
    series: [{ label: 'Weight', codes: ['HKQuantityTypeIdentifierBodyMass', '29463-7', '3141-9'] }],
  },
  { key: 'bmi', title: 'BMI', stat: 'mean', vital: true, series: [{ label: 'BMI', codes: ['HKQuantityTypeIdentifierBodyMassIndex', '39156-5'] }] },
  {
    key: 'temperature',
    title: 'Body temperature',
    stat: 'mean',
    vital: true,
    series: [{ label: 'Temperature', codes: ['HKQuantityTypeIdentifierBodyTemperature', '8310-5'] }],
  },
  { key: 'steps', title: 'Steps', stat: 'sum', series: [{ label: 'Steps', codes: ['HKQuantityTypeIdentifierStepCount', '41950-7', '55423-8'] }] },
  {
    key: 'distance',
    title: 'Distance',
    stat: 'sum',
    convert: 'distance',
    series: [{ label: 'Walking and running', codes: ['HKQuantityTypeIdentifierDistanceWalkingRunning'] }],
  },
  {
    key: 'active_energy',
    title: 'Active energy',
    stat: 'sum',
    series: [{ label: 'Active energy', codes: ['HKQuantityTypeIdentifierActiveEnergyBurned', '41981-2'] }],
  },
  { key: 'exercise', title: 'Exercise minutes', stat: 'sum', series: [{ label: 'Exercise', codes: ['HKQuantityTypeIdentifierAppleExerciseTime', '93816-7'] }] },
];

export const METRIC_BY_KEY = new Map(METRICS.map((m) => [m.key, m]));

/** Every type code of every card, for one coverage query. */
export const ALL_METRIC_CODES = [...new Set(METRICS.flatMap((m) => m.series.flatMap((s) => s.codes)))];

/** Multipliers from a stored unit to a preferred one, for the conversions the preferences offer. */
const DISPLAY: Record<string, Record<string, [string, number]>> = {
  weight: { lb: ['kg', 2.2046226218], kg: ['lb', 1 / 2.2046226218] },
  distance: { mi: ['km', 0.62137119224], km: ['mi', 1.609344] },
  glucose: { 'mmol/L': ['mg/dL', 1 / 18.0156], 'mg/dL': ['mmol/L', 18.0156] },
};

/**
 * The factor taking a stored unit to the preferred one (`[preferred, factor]`), or undefined when
 * the stored unit is already it or does not convert. Stored units are UCUM ("kg", "[lb_av]",
 * "km", "mg/dL").
 */
export function displayFactor(kind: MetricDef['convert'], stored: string | null, preferred: string | undefined): { unit: string; factor: number } | undefined {
  if (!kind || !stored || !preferred) return undefined;
  const norm =
    ({ '[lb_av]': 'lb', lb: 'lb', kg: 'kg', km: 'km', m: 'm', '[mi_i]': 'mi', mi: 'mi', 'mg/dL': 'mg/dL', 'mmol/L': 'mmol/L' } as Record<string, string>)[
      stored
    ] ?? stored;
  if (norm === preferred) return undefined;
  if (kind === 'distance' && norm === 'm') return { unit: preferred, factor: preferred === 'km' ? 0.001 : 0.001 * 0.62137119224 };
  const entry = DISPLAY[kind]?.[preferred];
  if (!entry || entry[0] !== norm) return undefined;
  return { unit: preferred, factor: entry[1] };
}
