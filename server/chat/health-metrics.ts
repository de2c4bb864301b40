/**
 * Health metrics the chat understands, shared by question parsing, retrieval (type codes are
 * the plaintext `type` column of vault items) and the web app.
 */

export interface Metric {
  /** Stable identifier, safe for URLs and logs. */
  name: string;
  /** Human label for prompts and the UI. */
  label: string;
  /** Display unit only where it is the same everywhere; otherwise the series carries its own. */
  unit?: string;
  /** LOINC codes and Apple HealthKit identifiers stored as item type codes. */
  codes: string[];
  /** Lower-case phrases that name this metric in a question (matched longest first). */
  synonyms: string[];
  /** Daily totals are meaningful (steps), not daily means. */
  cumulative?: boolean;
}

export const METRICS: readonly Metric[] = [
  {
    name: 'blood-pressure',
    label: 'Blood pressure',
    unit: 'mmHg',
    codes: [
      '85354-9',
      '8480-6',
      '8462-4',
      'HKQuantityTypeIdentifierBloodPressureSystolic',
      'HKQuantityTypeIdentifierBloodPressureDiastolic',
      'HKCorrelationTypeIdentifierBloodPressure',
    ],
    synonyms: ['blood pressure', 'bp', 'systolic', 'diastolic'],
  },
  {
    name: 'heart-rate',
    label: 'Heart rate',
    unit: 'bpm',
    codes: ['8867-4', 'HKQuantityTypeIdentifierHeartRate'],
    synonyms: ['heart rate', 'heartrate', 'pulse', 'heart beat', 'heartbeat', 'bpm'],
  },
  {
    name: 'resting-heart-rate',
    label: 'Resting heart rate',
    unit: 'bpm',
    codes: ['40443-4', 'HKQuantityTypeIdentifierRestingHeartRate'],
    synonyms: ['resting heart rate', 'resting heartrate', 'resting pulse', 'resting hr', 'rhr'],
  },
  {
    name: 'weight',
    label: 'Weight',
    codes: ['29463-7', '3141-9', 'HKQuantityTypeIdentifierBodyMass'],
    synonyms: ['weight', 'body weight', 'weigh', 'weighed', 'body mass'],
  },
  { name: 'bmi', label: 'BMI', unit: 'kg/m2', codes: ['39156-5', 'HKQuantityTypeIdentifierBodyMassIndex'], synonyms: ['bmi', 'body mass index'] },
  {
    name: 'glucose',
    label: 'Blood glucose',
    codes: ['2339-0', '2345-7', 'HKQuantityTypeIdentifierBloodGlucose'],
    synonyms: ['glucose', 'blood glucose', 'blood sugar', 'sugar level', 'sugar levels'],
  },
  {
    name: 'hba1c',
    label: 'HbA1c',
    unit: '%',
    codes: ['4548-4', '17856-6'],
    synonyms: ['hba1c', 'a1c', 'hemoglobin a1c', 'haemoglobin a1c', 'glycated hemoglobin', 'glycated haemoglobin'],
  },
  {
    name: 'cholesterol',
    label: 'Cholesterol',
    codes: ['2093-3', '2089-1', '18262-6', '13457-7', '2085-9', '2571-8'],
    synonyms: ['cholesterol', 'lipids', 'lipid panel', 'lipid profile', 'total cholesterol'],
  },
  { name: 'ldl', label: 'LDL cholesterol', codes: ['2089-1', '18262-6', '13457-7'], synonyms: ['ldl', 'ldl cholesterol', 'bad cholesterol'] },
  { name: 'hdl', label: 'HDL cholesterol', codes: ['2085-9'], synonyms: ['hdl', 'hdl cholesterol', 'good cholesterol'] },
  { name: 'triglycerides', label: 'Triglycerides', codes: ['2571-8'], synonyms: ['triglycerides', 'triglyceride', 'trigs'] },
  {
    name: 'steps',
    label: 'Steps',
    unit: 'steps',
    codes: ['41950-7', '55423-8', 'HKQuantityTypeIdentifierStepCount'],
    synonyms: ['steps', 'step count', 'step counts', 'walked'],
    cumulative: true,
  },
  {
    name: 'sleep',
    label: 'Sleep',
    codes: [
      '93832-4',
      'HKCategoryTypeIdentifierSleepAnalysis',
      // Minutes per stage per night (integrations/series/sleep-stages.ts), summarised per stage.
      'HKCategoryValueSleepAnalysisAsleepDeep',
      'HKCategoryValueSleepAnalysisAsleepCore',
      'HKCategoryValueSleepAnalysisAsleepREM',
      'HKCategoryValueSleepAnalysisAwake',
    ],
    synonyms: ['sleep', 'slept', 'sleeping'],
    cumulative: true,
  },
  {
    name: 'temperature',
    label: 'Body temperature',
    codes: ['8310-5', '8331-1', 'HKQuantityTypeIdentifierBodyTemperature'],
    synonyms: ['temperature', 'body temperature', 'temp', 'fever'],
  },
  {
    name: 'oxygen-saturation',
    label: 'Oxygen saturation',
    unit: '%',
    codes: ['59408-5', '2708-6', 'HKQuantityTypeIdentifierOxygenSaturation'],
    synonyms: ['spo2', 'sp02', 'oxygen saturation', 'blood oxygen', 'oxygen level', 'oxygen levels', 'o2 sat', 'o2 saturation', 'sats'],
  },
  {
    name: 'respiratory-rate',
    label: 'Respiratory rate',
    unit: 'breaths/min',
    codes: ['9279-1', 'HKQuantityTypeIdentifierRespiratoryRate'],
    synonyms: ['respiratory rate', 'respiration rate', 'breathing rate', 'respiration'],
  },
  { name: 'height', label: 'Height', codes: ['8302-2', 'HKQuantityTypeIdentifierHeight'], synonyms: ['height', 'how tall'] },
  { name: 'hemoglobin', label: 'Hemoglobin', codes: ['718-7'], synonyms: ['hemoglobin', 'haemoglobin', 'hgb', 'hb'] },
];

/** Finds a metric by name, label or synonym (case-insensitive). */
export function findMetric(nameOrLabel: string): Metric | undefined {
  const key = nameOrLabel.trim().toLowerCase();
  return METRICS.find((m) => m.name === key || m.label.toLowerCase() === key || m.synonyms.includes(key));
}

/** Metrics that record a type code (LOINC or HealthKit), for retrieval filters. */
export function metricsForCode(code: string): Metric[] {
  return METRICS.filter((m) => m.codes.includes(code));
}
