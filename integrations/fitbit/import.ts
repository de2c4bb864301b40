/**
 * Import of a downloaded Fitbit / Google Health archive into samples and records.
 *
 * Two passes over the archive keep memory constant while still preferring the better copy of a
 * repeated stream: pass 1 reads the preferred files (new CSVs; sleep JSON) and notes what they
 * covered; pass 2 reads the fallback files (classic JSON; UserSleeps CSV) and skips what pass 1
 * already gave. Entry order inside an archive is arbitrary, so one pass could not do this
 * without holding a stream in memory.
 */
import type { ImportProgress, QuantitySample, RecordInput } from '../types.js';
import {
  classifyEntry,
  ImportError,
  isIgnorable,
  layoutOf,
  readEntryText,
  walkArchive,
  type ArchiveSource,
  type ArchiveEntry,
  type ArchiveLayout,
  type ArchiveLimits,
  type FileFamily,
} from './archive.js';
import {
  Dedupe,
  HK,
  parseExerciseJson,
  parseHeartRateJson,
  parseIntradayCsv,
  parseRestingHeartRateCsv,
  parseRestingHeartRateJson,
  parseSleepJson,
  parseStepsJson,
  parseUserSleepsCsv,
  parseWeightCsv,
  parseWeightJson,
  UnreadableFileError,
  weightJsonUnit,
  type NormalizeContext,
  type NormalizeOutput,
} from './normalize.js';
import { isValidTimeZone } from './time.js';
import { SLEEP_STAGES } from '../series/sleep-stages.js';

export { ImportError } from './archive.js';
export type { ImportErrorCode, ArchiveLimits, ArchiveLayout } from './archive.js';

/** Where imported data goes; each call is awaited before more is read (backpressure). */
export interface FitbitSink {
  samples(batch: QuantitySample[]): Promise<void> | void;
  records(batch: RecordInput[]): Promise<void> | void;
  /**
   * Samples an earlier import in another zone stored (see `previousZones`), to be removed where
   * stored: never counted. Each batch comes before the samples that follow it, so a store that
   * applies batches in order removes before it adds. Without it, nothing is retracted.
   */
  retract?(batch: QuantitySample[]): Promise<void> | void;
}

/** Options of {@link importFitbitArchive}. */
export interface FitbitImportOptions {
  /** The user's IANA zone; the archive stores none. Default UTC (and a warning says so). */
  timezone?: string;
  /**
   * Zones earlier imports of this person's Fitbit data were read in (UTC for one given none).
   * What a row gave in one of them and gives otherwise in `timezone` (a sleep at another
   * instant, steps near midnight on another day) is sent to the sink's `retract`, so importing
   * again in another zone replaces what the first import stored instead of adding to it.
   * Names that are not zones, and `timezone` itself, are ignored.
   */
  previousZones?: readonly string[];
  onProgress?(p: ImportProgress): void;
  signal?: AbortSignal;
  /**
   * Unit of classic `weight-*.json`, which does not say. Without it each file's BMI tells it
   * where it can, else the unit the BMI of the archive's other weight files proved, else pounds
   * (FINDINGS §1.2), and a warning says so.
   */
  weightUnit?: 'lb' | 'kg';
  /** Overrides of the archive safety caps. */
  limits?: Partial<ArchiveLimits>;
  /** Samples per sink call (default 5,000); records go 200 at a time. */
  batchSize?: number;
  /**
   * Largest JSON file parsed whole (default 32 MiB). A day of 1-second heart rate is ~5 MB and a
   * month of sleep ~2 MB; the server parses in an import worker with a capped heap (256 MB),
   * where a 256 MiB file would need a gigabyte, so anything far larger is refused as not a
   * Fitbit file.
   */
  maxJsonFileBytes?: number;
}

/** Outcome of {@link importFitbitArchive}. */
export interface FitbitImportResult {
  /**
   * Samples per type code; records under `record:<type>` (a sleep session is both a sample of
   * minutes asleep and a record, so they are counted apart).
   */
  counts: Record<string, number>;
  /** Files not imported (unknown or unsupported streams), at most {@link MAX_UNKNOWN_LISTED}. */
  unknownFiles: string[];
  layout: ArchiveLayout;
  /** For the person: assumptions made, data skipped and why (one per code). */
  warnings: FitbitWarning[];
  /** What was in the archive but not imported, counted so the person learns of it. */
  skipped: FitbitSkipped;
}

/**
 * What an import tells the person. `message` is a fixed sentence that names no file, value or
 * entry (job results carry it as is); `count` says how many files or entries it concerns.
 */
export interface FitbitWarning {
  code: FitbitWarningCode;
  message: string;
  count?: number;
}

export type FitbitWarningCode =
  | 'no_time_zone'
  | 'unreadable_files'
  | 'duplicates_skipped'
  | 'weight_read_as_pounds'
  | 'weight_unit_from_archive'
  | 'unknown_files'
  | 'unreadable_entries'
  | 'no_data_files';

/** The fixed sentence of each warning (the archive-unit one per unit). */
export const FITBIT_WARNINGS = {
  no_time_zone:
    'No time zone was given, so UTC was used: sleep and weight times, and the days that steps and newer CSV data fall on, may be shifted by your UTC offset. Import again with your time zone to correct them.',
  unreadable_files: 'Some files in the archive are not valid JSON or not a list of entries, so none of their data was imported.',
  duplicates_skipped:
    'Some readings were in both the newer and the older files of the archive (CSV and JSON, or UserSleeps CSV and sleep JSON); each was imported once.',
  weight_read_as_pounds:
    "Some weights were read as pounds (Fitbit's default): their files say no unit, and no weight in the archive has a BMI that tells it. If your account used kilograms, import again with the weight unit set to kilograms (the weightUnit field set to kg).",
  weight_unit_from_archive_kg:
    'Some weights had no BMI to tell their unit and were read as kilograms, the unit the other weights in the archive showed. If that is wrong, import again with the weight unit set to pounds.',
  weight_unit_from_archive_lb:
    'Some weights had no BMI to tell their unit and were read as pounds, the unit the other weights in the archive showed. If that is wrong, import again with the weight unit set to kilograms.',
  unknown_files: 'Some files were not imported because they are unknown or not yet supported.',
  unreadable_entries: 'Some entries could not be read (a date that does not exist, an empty entry, or a value that is not a number) and were skipped.',
  no_data_files: 'The archive holds no data files this importer reads.',
} as const;

/** Counts of data {@link importFitbitArchive} left behind; rows of a skipped file are not counted again. */
export interface FitbitSkipped {
  /** Data files that are not valid JSON, or whose JSON is not a list of entries. */
  unreadableFiles: number;
  /** Entries whose date or time is missing, unreadable or does not exist (such as 31 February). */
  unreadableDate: number;
  /** Entries that are not objects at all (`null`, a number). */
  unreadableEntries: number;
  /** Entries whose value is missing, not a number or not plausible. */
  unusableValue: number;
}

/**
 * Sample types each of whose samples comes with a record of the same import (a sleep session's
 * minutes asleep, and its minutes per stage): the session is one thing imported, counted as its
 * record, so a night never reads as five counts under stage codes a person cannot read.
 */
export const RECORDED_SAMPLE_TYPES: ReadonlySet<string> = new Set([HK.sleep, ...Object.values(SLEEP_STAGES)]);

/** How many not-imported file names the result lists before summarising. */
export const MAX_UNKNOWN_LISTED = 200;

const PREFERRED: ReadonlySet<FileFamily> = new Set<FileFamily>(['heart_rate_csv', 'steps_csv', 'resting_heart_rate_csv', 'weight_csv', 'sleep_json']);

const FALLBACK: ReadonlySet<FileFamily> = new Set<FileFamily>([
  'heart_rate_json',
  'steps_json',
  'resting_heart_rate_json',
  'weight_json',
  'exercise_json',
  'user_sleeps_csv',
]);

const LAYOUT_RANK: Record<ArchiveLayout, number> = { 'takeout-google-health': 4, 'takeout-fitbit': 3, myfitbitdata: 2, 'user-site-export': 1, unknown: 0 };

class Batcher implements NormalizeOutput {
  private s: QuantitySample[] = [];
  private r: RecordInput[] = [];
  private x: QuantitySample[] = [];
  readonly counts: Record<string, number> = {};
  constructor(
    private readonly sink: FitbitSink,
    private readonly size: number,
    private readonly signal?: AbortSignal,
  ) {}
  sample(x: QuantitySample): void | Promise<void> {
    this.s.push(x);
    this.counts[x.type] = (this.counts[x.type] ?? 0) + 1;
    if (this.s.length >= this.size) return this.flushSamples();
  }
  /** Not counted: a retraction imports nothing. */
  retract(x: QuantitySample): void | Promise<void> {
    this.x.push(x);
    if (this.x.length >= this.size) return this.flushRetractions();
  }
  record(x: RecordInput): void | Promise<void> {
    this.r.push(x);
    const k = `record:${x.type}`;
    this.counts[k] = (this.counts[k] ?? 0) + 1;
    if (this.r.length >= 200) return this.flushRecords();
  }
  async flushRetractions(): Promise<void> {
    if (this.x.length === 0) return;
    if (this.signal?.aborted) throw new ImportError('aborted', 'The import was cancelled.');
    const b = this.x;
    this.x = [];
    await this.sink.retract?.(b);
  }
  /** Retractions read so far go first: what they remove must be gone before what follows is added. */
  async flushSamples(): Promise<void> {
    await this.flushRetractions();
    if (this.s.length === 0) return;
    if (this.signal?.aborted) throw new ImportError('aborted', 'The import was cancelled.');
    const b = this.s;
    this.s = [];
    await this.sink.samples(b);
  }
  async flushRecords(): Promise<void> {
    if (this.r.length === 0) return;
    if (this.signal?.aborted) throw new ImportError('aborted', 'The import was cancelled.');
    const b = this.r;
    this.r = [];
    await this.sink.records(b);
  }
  async flush(): Promise<void> {
    await this.flushSamples();
    await this.flushRecords();
  }
}

/**
 * Import a Fitbit / Google Health archive (`.zip` or `.tgz`) at `path` into `sink`.
 *
 * Throws {@link ImportError} for unsafe, damaged or non-Fitbit archives and a bad `timezone`;
 * data-level problems (one malformed file) become warnings instead.
 */
export async function importFitbitArchive(path: ArchiveSource, sink: FitbitSink, opts: FitbitImportOptions = {}): Promise<FitbitImportResult> {
  const warnings: FitbitWarning[] = [];
  // The archive-unit warning has a sentence per unit; every other code has one.
  const warn = (code: Exclude<FitbitWarningCode, 'weight_unit_from_archive'>, count?: number): void => {
    add(code, FITBIT_WARNINGS[code], count);
  };
  const add = (code: FitbitWarningCode, message: string, count?: number): void => {
    warnings.push(count === undefined ? { code, message } : { code, message, count });
  };
  const timeZone = opts.timezone?.trim() || 'UTC';
  if (opts.timezone !== undefined && opts.timezone.trim() !== '' && !isValidTimeZone(timeZone)) {
    throw new ImportError(
      'bad_timezone',
      `"${opts.timezone.slice(0, 64)}" is not a time zone name. Use an IANA name such as Europe/Paris or America/New_York.`,
    );
  }
  if (!opts.timezone?.trim()) warn('no_time_zone');
  const previousZones = sink.retract
    ? [...new Set((opts.previousZones ?? []).map((z) => z.trim()))].filter((z) => z !== '' && z !== timeZone && isValidTimeZone(z))
    : [];
  const dedupe = new Dedupe();
  const skipped: FitbitSkipped = { unreadableFiles: 0, unreadableDate: 0, unreadableEntries: 0, unusableValue: 0 };
  let poundsAssumed = 0;
  let unitFromArchive = 0;
  let unreadableFiles = 0;
  // The units that weight files' BMI proved (pass 1), so files whose own BMI says nothing follow them.
  const provenUnits = new Set<'lb' | 'kg'>();
  const ctx: NormalizeContext = {
    timeZone,
    previousZones,
    weightUnit: opts.weightUnit,
    poundsAssumed: () => {
      poundsAssumed += 1;
    },
    weightUnitFromArchive: () => {
      unitFromArchive += 1;
    },
    dedupe,
    // Normalisers' sentences may quote the input; results carry fixed warnings only.
    warn: () => {},
    skip: (reason) => {
      if (reason === 'date') skipped.unreadableDate += 1;
      else if (reason === 'row') skipped.unreadableEntries += 1;
      else skipped.unusableValue += 1;
    },
  };
  const batcher = new Batcher(sink, Math.max(1, opts.batchSize ?? 5_000), opts.signal);
  const maxJson = opts.maxJsonFileBytes ?? 32 * 1024 * 1024;

  let layout: ArchiveLayout = 'unknown';
  const unknownFiles: string[] = [];
  let unknownTotal = 0;
  let recognised = 0;
  let fallbackSeen = 0;
  let entriesTotal: number | undefined;
  let done = 0;
  const families = new Set<FileFamily>();
  const progress = (): void => opts.onProgress?.({ done, total: entriesTotal, unit: 'files' });

  const visit = async (entry: ArchiveEntry): Promise<void> => {
    const c = classifyEntry(entry.path);
    if (!c) return;
    try {
      await parseEntry(entry, c.family, c.fileDate, ctx, batcher, maxJson);
    } catch (err) {
      if (err instanceof ImportError) throw err;
      // JSON files are parsed whole before any row is emitted, so nothing of such a file was imported.
      if (err instanceof SyntaxError || err instanceof UnreadableFileError) {
        skipped.unreadableFiles += 1;
        unreadableFiles += 1;
      } else {
        throw err;
      }
    } finally {
      done += 1;
      progress();
    }
  };

  // Read in pass 1 for the unit their BMI proves, and only in pass 2 for their data: files in
  // any order then all follow what any of them proved.
  const probeWeights = opts.weightUnit === undefined;
  const probe = async (entry: ArchiveEntry): Promise<void> => {
    const unit = weightJsonUnit(await readEntryText(entry.stream, maxJson, entry.path));
    if (unit) provenUnits.add(unit);
  };

  // Pass 1: every entry is checked and listed; only preferred files are parsed.
  await walkArchive(
    path,
    {
      limits: opts.limits,
      signal: opts.signal,
      onEntryCount: (n) => {
        entriesTotal = n;
      },
      onEntry: (name, isDir) => {
        const l = layoutOf(name);
        if (l && LAYOUT_RANK[l] > LAYOUT_RANK[layout]) layout = l;
        const c = isDir ? null : classifyEntry(name);
        if (c) {
          recognised += 1;
          families.add(c.family);
          if (FALLBACK.has(c.family)) fallbackSeen += 1;
        } else {
          if (!isDir && !isIgnorable(name)) {
            unknownTotal += 1;
            if (unknownFiles.length < MAX_UNKNOWN_LISTED) unknownFiles.push(name);
          }
          done += 1;
        }
      },
      want: (name) => {
        const c = classifyEntry(name);
        return !!c && (PREFERRED.has(c.family) || (probeWeights && c.family === 'weight_json'));
      },
    },
    (entry) => (classifyEntry(entry.path)?.family === 'weight_json' ? probe(entry) : visit(entry)),
  );
  entriesTotal ??= done + fallbackSeen;
  // Kilograms proved by one file and pounds by another: nothing to follow, each file as before.
  if (provenUnits.size === 1) ctx.archiveWeightUnit = [...provenUnits][0];
  progress();

  if (recognised === 0 && layout === 'unknown') {
    throw new ImportError(
      'not_fitbit',
      'This archive does not look like a Fitbit or Google Health export: none of its files are ones we know (such as heart_rate-2024-01-01.json or steps_2024-01-01.csv).',
    );
  }

  // Pass 2: the fallback copies, minus what pass 1 covered.
  if (fallbackSeen > 0) {
    await walkArchive(
      path,
      {
        limits: opts.limits,
        signal: opts.signal,
        want: (name) => {
          const c = classifyEntry(name);
          return !!c && FALLBACK.has(c.family);
        },
      },
      visit,
    );
  }
  await batcher.flush();

  if (unreadableFiles > 0) warn('unreadable_files', unreadableFiles);
  const duplicates = Object.values(dedupe.skipped).reduce((a, n) => a + n, 0);
  if (duplicates > 0) warn('duplicates_skipped', duplicates);
  if (poundsAssumed > 0) warn('weight_read_as_pounds', poundsAssumed);
  if (unitFromArchive > 0 && ctx.archiveWeightUnit) {
    add('weight_unit_from_archive', FITBIT_WARNINGS[`weight_unit_from_archive_${ctx.archiveWeightUnit}`], unitFromArchive);
  }
  if (unknownTotal > 0) warn('unknown_files', unknownTotal);
  const rows = skipped.unreadableDate + skipped.unreadableEntries + skipped.unusableValue;
  if (rows > 0) warn('unreadable_entries', rows);
  if (recognised === 0) warn('no_data_files');
  return { counts: batcher.counts, unknownFiles, layout, warnings, skipped };
}

async function parseEntry(
  entry: ArchiveEntry,
  family: FileFamily,
  fileDate: string | undefined,
  ctx: NormalizeContext,
  out: NormalizeOutput,
  maxJson: number,
): Promise<void> {
  switch (family) {
    case 'heart_rate_csv':
      return parseIntradayCsv(entry.stream, 'heart_rate', ctx, out);
    case 'steps_csv':
      return parseIntradayCsv(entry.stream, 'steps', ctx, out);
    case 'resting_heart_rate_csv':
      return parseRestingHeartRateCsv(entry.stream, ctx, out);
    case 'weight_csv':
      return parseWeightCsv(entry.stream, ctx, out);
    case 'user_sleeps_csv':
      return parseUserSleepsCsv(entry.stream, ctx, out);
    default:
      break;
  }
  const text = await readEntryText(entry.stream, maxJson, entry.path);
  if (text.trim() === '') return;
  switch (family) {
    case 'heart_rate_json':
      return parseHeartRateJson(text, fileDate ?? '1970-01-01', ctx, out);
    case 'steps_json':
      return parseStepsJson(text, ctx, out);
    case 'sleep_json':
      return parseSleepJson(text, ctx, out);
    case 'weight_json':
      return parseWeightJson(text, ctx, out);
    case 'resting_heart_rate_json':
      return parseRestingHeartRateJson(text, ctx, out);
    case 'exercise_json':
      return parseExerciseJson(text, ctx, out);
    default:
      return;
  }
}
