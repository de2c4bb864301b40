/**
 * Sleep stages as daily series: minutes per stage per night, one series type per stage, named
 * by Apple Health's category values (the vocabulary most sources map onto). Summed per day like
 * minutes asleep, on the local date the sleep started.
 */
export const SLEEP_STAGES = {
  deep: 'HKCategoryValueSleepAnalysisAsleepDeep',
  core: 'HKCategoryValueSleepAnalysisAsleepCore',
  rem: 'HKCategoryValueSleepAnalysisAsleepREM',
  unspecified: 'HKCategoryValueSleepAnalysisAsleepUnspecified',
  awake: 'HKCategoryValueSleepAnalysisAwake',
  inBed: 'HKCategoryValueSleepAnalysisInBed',
} as const;

export const SLEEP_STAGE_PREFIX = 'HKCategoryValueSleepAnalysis';

/** An Apple Health SleepAnalysis value as its stage series; "Asleep" (before iOS 16) is unspecified. */
export function appleSleepStage(value: string | undefined): string | null {
  if (value === 'HKCategoryValueSleepAnalysisAsleep') return SLEEP_STAGES.unspecified;
  return value && (Object.values(SLEEP_STAGES) as string[]).includes(value) ? value : null;
}

/**
 * Fitbit's `levels.summary` keys as stage series: "light" is Apple's "core" (the same stage
 * under another name); the classic (non-stages) log's "asleep" and "awake" map as such, and its
 * "restless" counts as awake.
 */
const FITBIT: Record<string, string> = {
  deep: SLEEP_STAGES.deep,
  light: SLEEP_STAGES.core,
  rem: SLEEP_STAGES.rem,
  wake: SLEEP_STAGES.awake,
  asleep: SLEEP_STAGES.unspecified,
  awake: SLEEP_STAGES.awake,
  restless: SLEEP_STAGES.awake,
};

/** Minutes per stage series of one Fitbit sleep log's `levels.summary` (stages with no minutes left out). */
export function fitbitSleepStages(summary: Record<string, { minutes?: unknown }> | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of Object.entries(summary ?? {})) {
    const code = FITBIT[k];
    const minutes = typeof v?.minutes === 'number' && Number.isFinite(v.minutes) ? v.minutes : 0;
    if (code && minutes > 0) out.set(code, (out.get(code) ?? 0) + minutes);
  }
  return out;
}

const STAGE_LABELS: Record<string, string> = {
  [SLEEP_STAGES.deep]: 'deep',
  [SLEEP_STAGES.core]: 'core (light)',
  [SLEEP_STAGES.rem]: 'REM',
  [SLEEP_STAGES.unspecified]: 'asleep, stage not recorded',
  [SLEEP_STAGES.awake]: 'awake',
  [SLEEP_STAGES.inBed]: 'in bed',
};

/** "Sleep stage: deep" for a stage series code; null for any other code. */
export function sleepStageLabel(code: string): string | null {
  const l = STAGE_LABELS[code];
  return l ? `Sleep stage: ${l}` : null;
}
