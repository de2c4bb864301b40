import { randomUUID } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { importFile, jobOutcome, type JobOutcome } from '../codec/index.js';
import { asBuffer } from '../db/index.js';
import { createSeriesSink, isImportError } from '../../integrations/apple-health/index.js';
import {
  ImportError as FitbitImportError,
  RECORDED_SAMPLE_TYPES as FITBIT_RECORDED_SAMPLE_TYPES,
  type FitbitWarningCode,
} from '../../integrations/fitbit/import.js';
import { FhirInputError, recordOfSample, transformAny, transformNdjsonStream, type FhirIssue } from '../../integrations/fhir/transform.js';
import type { ImportProgress, QuantitySample, RecordInput } from '../../integrations/types.js';
import type { SealedChunk } from '../codec/series.js';
import { type AppError, badRequest, notFound, tooLarge, unprocessable, unsupportedType } from '../errors.js';
import { AppleHealthWorkers, runAppleHealthInWorker, type AppleHealthRunStats } from '../jobs/apple-health-job.js';
import type { FileSeal, ImportFiles } from '../jobs/encrypted-file.js';
import { JOB_ERRORS, JobFailure, type JobContext, type JobErrorCode, type JobRunner } from '../jobs/runner.js';
import type { JobRow, JobsRepository } from '../repositories/jobs.repository.js';
import { isRealDate, TimeZone, type Job } from '../../contract/index.js';
import type { FilesService } from './files.service.js';
import { itemFromRecord, type ItemsService, type NewItem } from './items.service.js';
import type { KeyRing, SessionContext } from './keyring.js';
import { replacedSamples } from './health/revisions.js';
import { SAMPLES_LEFT_OUT, type SeriesService } from './series.service.js';

export type FhirFormat = 'json' | 'ndjson';
type AppleFormat = 'zip' | 'xml';

/** Reads rows of job kinds run outside the runner (integration syncs), keyed by kind prefix. */
export type JobViewer = (row: JobRow) => Job;

const RECORD_BATCH = 256;

/**
 * Samples read with a batch of records (beside those the records carry), stored once the
 * records' fate is known; and where they go.
 */
interface RecordSamples {
  samples: QuantitySample[];
  sink: { samples(batch: QuantitySample[]): void | Promise<void>; finish(): Promise<void> };
}
/**
 * The result's count of samples an import left out: a unit that does not convert to the rest of
 * its day's, or a value that is not finite or plausible; the series service counts under it too.
 */
const LEFT_OUT = SAMPLES_LEFT_OUT;
/**
 * Apple Health samples whose start or end date is missing, is not a date ("03/06/2026 10:00",
 * 30 February), has no UTC offset, or ends before it starts: with no instant, no day to put them on.
 */
const UNDATED_SAMPLES = 'samples with an unreadable date (not imported)';
/** Fitbit files that are not valid JSON or not a list of entries: none of their data was imported. */
const FITBIT_UNREADABLE_FILES = 'files that could not be read (not imported)';
/** Fitbit entries dated 31 February, 25:00 or not at all: no day to put them on (Apple Health's key too). */
const FITBIT_UNREADABLE_DATE = 'samples with an unreadable date (not imported)';
/** Fitbit array elements that are not entries at all (null, a number). */
const FITBIT_UNREADABLE_ENTRIES = 'entries that could not be read (not imported)';
/**
 * The result's counts of what a FHIR import did not import, by the transformer's issue kind: an
 * NDJSON line that is not JSON, too long or not a resource, a Bundle entry without a usable
 * resource, a resource nested too deeply. Server messages (OperationOutcome), repeats within
 * the file and attachments kept inside their record lose nothing, so they are not counted.
 */
const FHIR_SKIPPED: Partial<Record<FhirIssue['kind'], string>> = {
  'invalid-line': 'resources that could not be read (not imported)',
  'invalid-entry': 'resources that could not be read (not imported)',
  'too-deep': 'resources nested too deeply (not imported)',
  'server-metadata': 'server descriptions, not health data (not imported)',
};
/**
 * Fitbit warnings whose news the result's counts already give ("files that could not be read
 * (not imported)" and the like): not said twice.
 */
const FITBIT_COUNTED_WARNINGS: ReadonlySet<FitbitWarningCode> = new Set<FitbitWarningCode>(['unreadable_files', 'unknown_files', 'unreadable_entries']);
/** Earlier Fitbit import zones (most recent first) whose shifted samples a Fitbit import takes back. */
const MAX_PREVIOUS_ZONES = 8;
/** A FHIR JSON document is parsed whole; bigger exports come as NDJSON, which streams. */
export const MAX_FHIR_JSON_BYTES = 256 * 1024 * 1024;

export interface ImportsOptions {
  maxImportBytes: number;
  /** Told how much heap each Apple Health import worker used (for metrics). */
  onWorkerStats?(stats: AppleHealthRunStats): void;
}

/**
 * Health imports: accepts an upload into an encrypted file, queues a job, and runs it (FHIR
 * JSON/NDJSON, Apple Health export.zip/export.xml) into records and day-chunked series.
 */
export class ImportsService {
  readonly #appleWorkers = new AppleHealthWorkers();

  constructor(
    private readonly jobs: JobsRepository,
    private readonly runner: JobRunner,
    private readonly files: ImportFiles,
    private readonly items: ItemsService,
    private readonly fileBlobs: FilesService,
    private readonly series: SeriesService,
    private readonly opts: ImportsOptions,
  ) {
    runner.register('fhir', { run: (ctx) => this.#runFhir(ctx), describe: describeFhirError });
    runner.register('apple_health', { run: (ctx) => this.#runAppleHealth(ctx), describe: describeAppleError });
    runner.register('fitbit', { run: (ctx) => this.#runFitbit(ctx), describe: describeFitbitError });
  }

  /** Input files are sealed under a key from the owner's vault key and bound to the job row. */
  #seal(keys: KeyRing, userId: string, jobId: string): FileSeal {
    return importFile.stream(keys, userId, jobId);
  }

  async startFhir(session: SessionContext, body: Readable, format: FhirFormat): Promise<{ jobId: string }> {
    const limit = format === 'json' ? Math.min(this.opts.maxImportBytes, MAX_FHIR_JSON_BYTES) : this.opts.maxImportBytes;
    return this.#accept(
      session,
      'fhir',
      body,
      limit,
      (head) => {
        const first = head
          .toString('utf8')
          .replace(/^\uFEFF/, '')
          .trimStart()[0];
        if (first === undefined) throw unprocessable('The request body is empty: send a FHIR Bundle, a resource or NDJSON.', 'not_fhir');
        if (first !== '{' && first !== '[') throw unprocessable('The body is not FHIR JSON: it must start with "{" or "[".', 'not_fhir');
        return format;
      },
      format === 'json' ? 'Send FHIR JSON up to 256 MB; send larger exports as NDJSON (application/fhir+ndjson).' : undefined,
    );
  }

  async startAppleHealth(session: SessionContext, file: Readable): Promise<{ jobId: string }> {
    return this.#accept<AppleFormat>(
      session,
      'apple_health',
      file,
      this.opts.maxImportBytes,
      (head) => {
        if (head.length === 0) throw emptyFile('the export.zip from the Health app, or the export.xml inside it');
        if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5) && (head[3] === 4 || head[3] === 6)) return 'zip';
        // The Health app writes UTF-8; a copy re-saved by an editor may not be, and would read as garbage.
        if (
          (head[0] === 0xff && head[1] === 0xfe) ||
          (head[0] === 0xfe && head[1] === 0xff) ||
          (head[0] === 0 && head[1] === 0x3c) ||
          (head[0] === 0x3c && head[1] === 0)
        ) {
          throw notUtf8('UTF-16');
        }
        const text = head
          .toString('utf8')
          .replace(/^\uFEFF/, '')
          .trimStart();
        const declared = /^<\?xml[^>]*?\bencoding\s*=\s*["']([^"']+)["']/i.exec(text)?.[1];
        if (declared && !/^(utf-?8|us-ascii|ascii)$/i.test(declared)) throw notUtf8(declared.slice(0, 40));
        if (text.startsWith('<')) return 'xml';
        throw unsupportedType('Upload the export.zip from the Health app ("Export All Health Data"), or the export.xml inside it.');
      },
      undefined,
      // The parse worker loads while the rest of the upload streams in.
      { sniffed: (jobId, format) => this.#appleWorkers.prewarm(jobId, format), refused: (jobId) => this.#appleWorkers.discard(jobId) },
    );
  }

  /** Stops import workers started ahead of jobs that have not begun. */
  close(): void {
    this.#appleWorkers.close();
  }

  /**
   * A Fitbit / Google Health archive (.zip or .tgz). The IANA time zone and the weight unit ride
   * along in the job's input format (`zip;weight=kg;tz=Europe/Paris`): the archive stores neither,
   * and naive local times need the zone. The zone goes last: `otherFitbitZones` reads all after `;tz=`.
   */
  async startFitbit(session: SessionContext, file: Readable, opts: { timezone?: string; weightUnit?: string } = {}): Promise<{ jobId: string }> {
    const { timezone, weightUnit } = opts;
    if (timezone && !TimeZone.safeParse(timezone).success) {
      file.resume();
      throw badRequest(`"${timezone.slice(0, 64)}" is not a time zone name. Use an IANA name such as Europe/Paris.`, 'bad_timezone');
    }
    if (weightUnit && weightUnit !== 'kg' && weightUnit !== 'lb') {
      file.resume();
      throw badRequest(`weightUnit: must be "kg" or "lb", not "${weightUnit.slice(0, 16)}".`, 'invalid_request');
    }
    return this.#accept(session, 'fitbit', file, this.opts.maxImportBytes, (head) => {
      if (head.length === 0) throw emptyFile('the Fitbit or Google Health archive (.zip or .tgz)');
      const fmt =
        head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5)
          ? 'zip'
          : head[0] === 0x1f && head[1] === 0x8b
            ? 'tgz'
            : undefined;
      if (!fmt) throw unsupportedType('Upload the Fitbit or Google Health archive (.zip or .tgz) exactly as you downloaded it.');
      return `${fmt}${weightUnit ? `;weight=${weightUnit}` : ''}${timezone ? `;tz=${timezone}` : ''}`;
    });
  }

  /**
   * Streams an upload to an encrypted file under the job's id, checking its size and kind on the
   * way, then records and queues the job. Nothing is queued for a refused upload, and its file
   * is deleted.
   */
  async #accept<F extends string>(
    session: SessionContext,
    kind: string,
    body: Readable & { truncated?: boolean },
    limit: number,
    sniff: (head: Buffer) => F,
    limitHint?: string,
    hooks?: { sniffed(jobId: string, format: F): void; refused(jobId: string): void },
  ): Promise<{ jobId: string }> {
    const { userId, keys } = session;
    const jobId = randomUUID();
    let format: F | undefined;
    let head = Buffer.alloc(0);
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb: TransformCallback) {
        size += chunk.length;
        if (size > limit)
          return cb(tooLarge(`The file is larger than the ${Math.floor(limit / 1024 / 1024)} MB this server accepts.${limitHint ? ` ${limitHint}` : ''}`));
        try {
          if (format === undefined) {
            head = Buffer.concat([head, chunk.subarray(0, 64)]);
            if (head.length >= 64) {
              format = sniff(head);
              hooks?.sniffed(jobId, format);
            }
          }
        } catch (err) {
          return cb(err as Error);
        }
        cb(null, chunk);
      },
      flush(cb: TransformCallback) {
        try {
          format ??= sniff(head);
          cb();
        } catch (err) {
          cb(err as Error);
        }
      },
    });
    try {
      await this.files.write(userId, jobId, this.#seal(keys, userId, jobId), body, meter);
      if (body.truncated) {
        await this.files.remove(userId, jobId);
        throw tooLarge('The file is larger than this server accepts.');
      }
      try {
        await this.jobs.insert({
          id: jobId,
          userId,
          kind,
          progress: { done: 0, total: size, unit: 'bytes' },
          inputRef: `imports/${jobId}`,
          inputFormat: format!,
        });
      } catch (err) {
        await this.files.remove(userId, jobId);
        throw err;
      }
    } catch (err) {
      hooks?.refused(jobId);
      throw err;
    }
    this.runner.submit({ id: jobId, userId }, keys);
    return { jobId };
  }

  readonly #viewers = new Map<string, JobViewer>();

  /** Lets `GET /api/jobs/:id` read the jobs of kinds starting with `prefix` (one jobs API). */
  addViewer(prefix: string, viewer: JobViewer): void {
    this.#viewers.set(prefix, viewer);
  }

  async getJob(session: SessionContext, id: string): Promise<Job> {
    const row = await this.jobs.get(session.userId, id);
    if (!row) throw notFound('Job');
    return this.#view(session, row);
  }

  async listJobs(session: SessionContext, limit: number): Promise<Job[]> {
    return (await this.jobs.list(session.userId, limit)).map((row) => this.#view(session, row));
  }

  #view(session: SessionContext, row: JobRow): Job {
    for (const [prefix, viewer] of this.#viewers) if (row.kind.startsWith(prefix)) return viewer(row);
    return toView(session, row);
  }

  // ---- job kinds ----

  /**
   * Decrypting, parsing and aggregating run in a worker thread (server/jobs/apple-health-job.ts);
   * this thread stores the day chunks and records it sends, in order, while it parses on.
   */
  async #runAppleHealth(ctx: JobContext): Promise<void> {
    const { job, session, signal } = ctx;
    const format = job.input_format === 'zip' ? 'zip' : 'xml';
    const store = this.#workerStore(ctx);
    const stats = await runAppleHealthInWorker(
      {
        storage: this.files.spec,
        userId: session.userId,
        jobId: job.id,
        format,
        seal: this.#seal(session.keys, session.userId, job.id),
        seriesKey: session.keys.subkey('series'),
        signal,
      },
      store,
      this.#appleWorkers.take(job.id, format),
    );
    this.opts.onWorkerStats?.(stats);
    const leftOut = stats.leftOut + (await store.finish());
    if (leftOut) ctx.count(LEFT_OUT, leftOut);
    if (stats.undatedSamples) ctx.count(UNDATED_SAMPLES, stats.undatedSamples);
  }

  /**
   * Like Apple Health, in the worker: a Fitbit archive's JSON files are parsed whole there. The
   * zones of the person's earlier Fitbit imports go along: what those stored at other instants
   * or on other days than this zone gives is removed (the no-zone warning promises that importing
   * again in the right zone corrects the data).
   */
  async #runFitbit(ctx: JobContext): Promise<void> {
    const { job, session, signal } = ctx;
    const [format, ...params] = (job.input_format ?? 'zip').split(';');
    const param = (key: string) => params.find((p) => p.startsWith(`${key}=`))?.slice(key.length + 1);
    const timezone = param('tz');
    const weight = param('weight');
    const weightUnit = weight === 'kg' || weight === 'lb' ? weight : undefined;
    const previousZones = await this.jobs.otherFitbitZones(session.userId, job.id, timezone ?? 'UTC', MAX_PREVIOUS_ZONES);
    const store = this.#workerStore(ctx, FITBIT_RECORDED_SAMPLE_TYPES);
    const stats = await runAppleHealthInWorker(
      {
        storage: this.files.spec,
        userId: session.userId,
        jobId: job.id,
        format: format === 'tgz' ? 'fitbit-tgz' : 'fitbit-zip',
        timezone,
        previousZones,
        weightUnit,
        seal: this.#seal(session.keys, session.userId, job.id),
        seriesKey: session.keys.subkey('series'),
        signal,
      },
      store,
    );
    this.opts.onWorkerStats?.(stats);
    if (stats.unknownFiles) ctx.count('unrecognised files (not imported)', stats.unknownFiles);
    const skipped = stats.fitbitSkipped;
    if (skipped?.unreadableFiles) ctx.count(FITBIT_UNREADABLE_FILES, skipped.unreadableFiles);
    if (skipped?.unreadableDate) ctx.count(FITBIT_UNREADABLE_DATE, skipped.unreadableDate);
    if (skipped?.unreadableEntries) ctx.count(FITBIT_UNREADABLE_ENTRIES, skipped.unreadableEntries);
    const leftOut = stats.leftOut + (skipped?.unusableValue ?? 0) + (await store.finish());
    if (leftOut) ctx.count(LEFT_OUT, leftOut);
    for (const w of stats.warnings ?? []) if (!FITBIT_COUNTED_WARNINGS.has(w.code)) ctx.warn(w);
  }

  /**
   * Stores what an import worker sends: sealed day chunks and records, in order. The samples that
   * travel with their records (an export.zip's clinical Observations) are stored as a FHIR
   * import's are; `finish` stores what is left of them and tells how many were left out. Samples
   * of `recordedTypes` each come with a record, which is what is counted.
   */
  #workerStore(ctx: JobContext, recordedTypes?: ReadonlySet<string>) {
    const series = this.#seriesSink(ctx);
    return {
      chunks: async (batch: SealedChunk[]) => {
        ctx.signal.throwIfAborted();
        const added = await this.series.storeSealed(ctx.session, batch);
        for (const [type, n] of Object.entries(added)) if (!recordedTypes?.has(type)) ctx.count(type, n);
      },
      // Not counted: what is taken back was an earlier import's, not this one's.
      retract: async (batch: SealedChunk[]) => {
        ctx.signal.throwIfAborted();
        await this.series.retractSealed(ctx.session, batch);
      },
      records: (batch: RecordInput[]) => this.#storeRecords(ctx, batch, { samples: [], sink: series }),
      progress: (p: ImportProgress) => ctx.progress(p),
      finish: async () => {
        await series.finish();
        return series.leftOut;
      },
    };
  }

  async #runFhir(ctx: JobContext): Promise<void> {
    const { job, session, signal } = ctx;
    const seal = this.#seal(session.keys, session.userId, job.id);
    const total = await this.files.plainSize(session.userId, job.id);
    const series = this.#seriesSink(ctx);
    // Counted once the whole file is read, like the samples left out: a run interrupted before
    // then counted none of them, so a resumed job counts each skip once.
    const skipped = new Map<string, number>();

    if (job.input_format === 'ndjson') {
      let done = 0;
      const stream = this.files.openStream(session.userId, job.id, seal);
      const counted = (async function* () {
        for await (const c of stream) {
          done += (c as Buffer).length;
          yield c as Buffer;
        }
      })();
      let records: RecordInput[] = [];
      let samples: QuantitySample[] = [];
      for await (const r of transformNdjsonStream(counted, { source: 'fhir' })) {
        signal.throwIfAborted();
        tallySkips(skipped, r.issues);
        records.push(...r.records);
        samples.push(...r.samples);
        if (records.length >= RECORD_BATCH) {
          await this.#storeRecords(ctx, records, { samples, sink: series });
          records = [];
          samples = [];
          ctx.progress({ done, total, unit: 'bytes' });
        }
      }
      await this.#storeRecords(ctx, records, { samples, sink: series });
    } else {
      const parts: Buffer[] = [];
      for await (const c of this.files.openStream(session.userId, job.id, seal)) parts.push(c as Buffer);
      signal.throwIfAborted();
      let json: unknown;
      try {
        json = JSON.parse(
          Buffer.concat(parts)
            .toString('utf8')
            .replace(/^\uFEFF/, ''),
        );
      } catch (err) {
        // The parser's message quotes the input; the person gets a plain sentence instead.
        if (err instanceof SyntaxError)
          throw new JobFailure(
            'The file is not valid JSON, so it is not FHIR. Send a FHIR Bundle or resource as JSON, or NDJSON with content type application/fhir+ndjson.',
          );
        throw err;
      }
      parts.length = 0;
      const out = transformAny(json, { source: 'fhir' });
      json = undefined;
      tallySkips(skipped, out.issues);
      const samplesOf = new Map<RecordInput, QuantitySample[]>();
      for (const s of out.samples) {
        const owner = recordOfSample(s);
        if (owner) samplesOf.set(owner, [...(samplesOf.get(owner) ?? []), s]);
      }
      ctx.progress({ done: 0, total: out.records.length, unit: 'resources' });
      for (let i = 0; i < out.records.length; i += RECORD_BATCH) {
        signal.throwIfAborted();
        const batch = out.records.slice(i, i + RECORD_BATCH);
        await this.#storeRecords(ctx, batch, { samples: batch.flatMap((r) => samplesOf.get(r) ?? []), sink: series });
        ctx.progress({ done: Math.min(i + RECORD_BATCH, out.records.length), total: out.records.length, unit: 'resources' });
      }
    }
    await series.finish();
    if (series.leftOut) ctx.count(LEFT_OUT, series.leftOut);
    for (const [key, n] of skipped) ctx.count(key, n);
  }

  /**
   * Day chunks made on this thread (a FHIR import's, and the samples records carry), with the
   * same bounds as the Apple Health worker's: open days by count, samples and bytes, whatever
   * the input's order.
   */
  #seriesSink(ctx: JobContext) {
    return createSeriesSink(
      {
        // Not counted: every sample here comes from an Observation, counted once as its record.
        chunks: async (chunks) => {
          ctx.signal.throwIfAborted();
          await this.series.store(ctx.session, chunks);
        },
        records: (batch) => this.#storeRecords(ctx, batch),
      },
      { maxOpenChunks: 64, maxOpenSamples: 50_000, maxOpenBytes: 8 * 1024 * 1024 },
    );
  }

  /**
   * Encrypts and stores records (with their attachments as encrypted files), counting what was
   * new or changed; records already stored at the same version count nothing.
   */
  async #storeRecords(ctx: JobContext, records: RecordInput[], withSamples?: RecordSamples): Promise<void> {
    if (records.length === 0) return;
    ctx.signal.throwIfAborted();
    const { session } = ctx;
    const inputs: NewItem[] = [];
    let undated = 0;
    for (const r of records) {
      // A date the source wrote wrong (2024-13-45, "not-a-date") leaves the record undated, not the import failed.
      if (r.occurredAt && !isRealDate(r.occurredAt)) {
        r.occurredAt = null;
        undated++;
      }
      const files: Array<{ fileId: string; name: string; contentType: string; size: number }> = [];
      for (const a of r.attachments ?? []) {
        const f = await this.fileBlobs.storeAttachment(session, a);
        files.push({ fileId: f.fileId, name: a.name, contentType: a.contentType, size: f.size });
      }
      inputs.push(itemFromRecord(r, { data: files.length ? { ...r.data, files } : r.data, fileId: files[0]?.fileId ?? null }));
    }
    const results = await this.items.createMany(session, inputs);
    await this.fileBlobs.linkAttachments(
      session,
      results.map((r) => r.item),
    );
    for (const res of results) if (res.status !== 'unchanged') ctx.count(res.item.type ?? 'record', 1);
    if (undated) ctx.count('records with an unreadable date (imported undated)', undated);
    const replaced = replacedSamples(results);
    if (replaced.length) {
      // Days still open in the sink could hold the replaced version's samples (both versions in one file).
      await withSamples?.sink.finish();
      await this.series.remove(session, replaced, { anySource: true });
    }
    if (withSamples) {
      // A record kept out (an older revision, or a repeat in the batch) keeps its samples out too.
      const stored = new Set(results.filter((r) => !r.older).map((r) => records[r.index]!));
      const samples = withSamples.samples.filter((s) => {
        const owner = recordOfSample(s);
        return !owner || stored.has(owner);
      });
      for (const r of stored) if (r.samples) samples.push(...r.samples);
      if (samples.length) await withSamples.sink.samples(samples);
    }
  }
}

/** The owner's view: counts and messages opened from the sealed outcome (or a job's clear columns from before 0011). */
function toView(session: SessionContext, row: JobRow): Job {
  const view: Job = { id: row.id, kind: row.kind, status: row.status, progress: row.progress as Job['progress'] };
  const outcome: JobOutcome = row.sealed
    ? openOutcome(session, row.id, row.sealed)
    : { imported: (row.legacy_result as { imported?: Record<string, number> } | null)?.imported, error: row.legacy_error ?? undefined };
  if (outcome.imported) view.result = outcome.warnings?.length ? { imported: outcome.imported, warnings: outcome.warnings } : { imported: outcome.imported };
  const error = outcome.error ?? (row.error_code ? (JOB_ERRORS[row.error_code as JobErrorCode] ?? JOB_ERRORS.failed) : undefined);
  if (error && row.status === 'failed') view.error = error;
  return view;
}

/** A tampered outcome must not take the whole job list down: the job then shows its clear status and code only. */
function openOutcome(session: SessionContext, jobId: string, sealed: Uint8Array): JobOutcome {
  try {
    return jobOutcome.open(session.keys, { userId: session.userId, id: jobId, version: 1 }, asBuffer(sealed));
  } catch (err) {
    if ((err as Error)?.name === 'DecryptError') return {};
    throw err;
  }
}

function describeAppleError(err: unknown): string | undefined {
  if (isImportError(err)) return err.message;
  if ((err as Error)?.name === 'DecryptError') return "The uploaded file could not be read back intact from the server's disk. Import it again.";
  return undefined;
}

function describeFitbitError(err: unknown): string | undefined {
  if (err instanceof FitbitImportError) return err.message;
  if ((err as Error)?.name === 'DecryptError') return "The uploaded file could not be read back intact from the server's disk. Import it again.";
  return undefined;
}

function tallySkips(skipped: Map<string, number>, issues: FhirIssue[]): void {
  for (const issue of issues) {
    const key = FHIR_SKIPPED[issue.kind];
    if (key) skipped.set(key, (skipped.get(key) ?? 0) + 1);
  }
}

function describeFhirError(err: unknown): string | undefined {
  // FhirInputError messages name the problem ("no resourceType"); only JSON.parse's quote input,
  // and those are replaced before they get here.
  if (err instanceof FhirInputError) return err.message.replace(/\(Unexpected[^)]*\)/g, '').slice(0, 300);
  if ((err as Error)?.name === 'DecryptError') return "The uploaded file could not be read back intact from the server's disk. Import it again.";
  return undefined;
}

function emptyFile(what: string): AppError {
  return unprocessable(`The file is empty. Upload ${what} as you downloaded it.`, 'empty_file');
}

function notUtf8(encoding: string): AppError {
  return unprocessable(
    `This export.xml is saved as ${encoding}, but the Health app writes UTF-8: upload the export.zip the Health app made, or the export.xml from inside it unchanged.`,
    'unsupported_encoding',
  );
}
