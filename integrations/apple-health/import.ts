/**
 * Apple Health import: an uploaded export.zip (or bare export.xml) in, samples and records out
 * through a sink. Pure of server code: the server's sink encrypts and stores.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { RandomAccessReader } from 'yauzl';
import type { ImportProgress, QuantitySample, RecordInput, RecordSource } from '../types.js';
import { recordOfSample, transformResource } from '../fhir/transform.js';
import { SeriesAccumulator, type DayChunk } from '../series/day-chunk.js';
import { ImportError, isImportError } from './errors.js';
import { parseExportXml, type AppleHealthSink, type ClinicalResolver, type TransformOutput } from './parse.js';
import { openAppleHealthZip, zipStreamError, type ZipLimits } from './zip.js';
import { missingClinicalRecord } from './build.js';

/** The FHIR transformer's signature (`integrations/fhir/transform.ts`). */
export type FhirTransform = (resource: unknown, opts?: { source?: RecordSource }) => TransformOutput;

/** Options of {@link importAppleHealth}. */
export interface ImportOptions {
  /** Progress in bytes of XML consumed; `total` is the XML's uncompressed size. */
  onProgress?(p: ImportProgress): void;
  signal?: AbortSignal;
  /** FHIR transformer for ClinicalRecord JSON; defaults to `integrations/fhir/transform.ts`. */
  fhir?: FhirTransform;
  limits?: ZipLimits & {
    /** Largest bare export.xml accepted (default 20 GiB). */
    maxXmlBytes?: number;
  };
}

/** What an import did. */
export interface ImportResult {
  counts: Record<string, number>;
  exportDate: string | null;
  locale: string | null;
}

const PROGRESS_STEP = 1 << 20;

/**
 * Imports an Apple Health export into `sink`. Refusals are {@link ImportError}s with a message
 * for the person who uploaded; an abort rejects with the signal's reason.
 */
export async function importAppleHealth(
  input:
    | { zipPath: string }
    | { xmlPath: string }
    // What the server uses: its uploads exist on disk only encrypted, so it hands in decrypting
    // readers (a random-access one for the zip's central directory) instead of paths.
    | { zip: { reader: RandomAccessReader; size: number } }
    | { xml: () => Readable; size: number },
  sink: AppleHealthSink,
  opts: ImportOptions = {},
): Promise<ImportResult> {
  opts.signal?.throwIfAborted();
  let lastReport = -PROGRESS_STEP;
  let total: number | undefined;
  const onBytes = (done: number) => {
    if (opts.onProgress && (done - lastReport >= PROGRESS_STEP || done === total)) {
      lastReport = done;
      opts.onProgress({ done, total, unit: 'bytes' });
    }
  };

  if ('xmlPath' in input || 'xml' in input) {
    const size = 'xml' in input ? input.size : (await stat(input.xmlPath)).size;
    const max = opts.limits?.maxXmlBytes ?? 20 * 1024 ** 3;
    if (size > max) throw new ImportError('too_large', `The export.xml is ${size} bytes, more than the ${max} accepted.`);
    total = size;
    const stream = 'xml' in input ? input.xml() : createReadStream(input.xmlPath, { highWaterMark: 256 * 1024 });
    const res = await parseExportXml(stream, sink, { onBytes, signal: opts.signal });
    if (opts.onProgress && lastReport !== res.bytes) opts.onProgress({ done: res.bytes, total, unit: 'bytes' });
    return { counts: res.counts, exportDate: res.exportDate, locale: res.locale };
  }

  const zip = await openAppleHealthZip('zip' in input ? input.zip : input.zipPath, opts.limits);
  try {
    total = zip.xmlSize;
    const fhir: FhirTransform = opts.fhir ?? transformResource;
    const failed = { n: 0 };
    const issues = { n: 0 };
    // Each clinical JSON file is read and transformed once, however many ClinicalRecords name it:
    // what a repeat would yield is already stored (same ids), and re-reading is how a small zip
    // could ask for unbounded work. The set is bounded by the zip's entry count.
    const read = new Set<string>();
    const repeats = { n: 0 };
    const clinical: ClinicalResolver = async (attrs) => {
      const path = attrs.resourceFilePath ?? '';
      const entry = zip.clinicalEntry(path);
      if (entry === null) return null;
      if (read.has(entry)) {
        repeats.n++;
        return { records: [], samples: [] };
      }
      read.add(entry);
      let json: unknown;
      try {
        json = await zip.readClinicalJson(path);
      } catch (e) {
        if (isImportError(e) && e.code !== 'too_large') throw e;
        failed.n++;
        return { records: [missingClinicalRecord(attrs, isImportError(e) ? e.message : `${path} is not valid JSON`)], samples: [] };
      }
      if (json === null) return null;
      try {
        const out = fhir(json, { source: 'apple_health' }) as TransformOutput & { issues?: unknown[] };
        if (out.issues?.length) issues.n += out.issues.length;
        return withOwnSamples(out);
      } catch (e) {
        // One resource the transformer can't read must not sink the whole import.
        failed.n++;
        return { records: [missingClinicalRecord(attrs, `the FHIR resource could not be read (${(e as Error).message})`)], samples: [] };
      }
    };
    let res;
    try {
      res = await parseExportXml(await zip.openXml(), sink, { onBytes, signal: opts.signal, clinical });
    } catch (e) {
      if (e instanceof ImportError || opts.signal?.aborted) throw e;
      throw zipStreamError(e, zip.xmlName) ?? e;
    }
    if (opts.onProgress && lastReport !== res.bytes) opts.onProgress({ done: res.bytes, total, unit: 'bytes' });
    if (failed.n) res.counts.clinicalFailed = failed.n;
    if (issues.n) res.counts.clinicalIssues = issues.n;
    if (repeats.n) res.counts.clinicalRepeated = repeats.n;
    return { counts: res.counts, exportDate: res.exportDate, locale: res.locale };
  } finally {
    zip.close();
  }
}

/**
 * Moves each sample onto the record it was read from, so that the server stores it with its
 * record and counts the resource once, as a FHIR upload does.
 */
function withOwnSamples(out: TransformOutput): TransformOutput {
  const free: QuantitySample[] = [];
  for (const s of out.samples) {
    const owner = recordOfSample(s);
    if (owner) (owner.samples ??= []).push(s);
    else free.push(s);
  }
  return { records: out.records, samples: free };
}

/** Where {@link createSeriesSink} puts its output. */
export interface ChunkStore {
  /** Day chunks to store; a chunk for a (type, date) already stored must be merged (`mergeChunks`). */
  chunks(batch: DayChunk[]): void | Promise<void>;
  records(batch: RecordInput[]): void | Promise<void>;
}

/** Bounds of what {@link createSeriesSink} keeps open. */
export interface SeriesSinkLimits {
  /** Open (type, day) chunks (default 64). */
  maxOpenChunks?: number;
  /** Samples in open chunks (default 200,000). */
  maxOpenSamples?: number;
  /** Rough heap bytes of open chunks (default 16 MiB; see SeriesAccumulator.bytes). */
  maxOpenBytes?: number;
}

/**
 * A sink that aggregates samples into day chunks and hands completed ones to `store` as it goes,
 * keeping at most `maxOpenChunks` days, `maxOpenSamples` samples and `maxOpenBytes` in memory,
 * whatever the order of the input: a day flushed early and met again later becomes a second
 * chunk, which the store merges into the first (mergeChunks). Call `finish()` after the import
 * to flush the rest. A sample whose unit does not convert to its day's, or whose value is not
 * finite or plausible, is left out and counted in `leftOut` (the sources of one export mix units:
 * a thermometer in °C and an app in °F on the same day), as is a record the parser could not
 * make a sample of (no type, no unit: `unusable`).
 */
export function createSeriesSink(store: ChunkStore, opts: SeriesSinkLimits = {}): AppleHealthSink & { finish(): Promise<void>; readonly leftOut: number } {
  const maxOpen = opts.maxOpenChunks ?? 64;
  const maxSamples = opts.maxOpenSamples ?? 200_000;
  const maxBytes = opts.maxOpenBytes ?? 16 * 1024 * 1024;
  const acc = new SeriesAccumulator();
  let leftOut = 0;
  return {
    get leftOut() {
      return leftOut;
    },
    async samples(batch: QuantitySample[]) {
      leftOut += acc.addMany(batch);
      const full = acc.sampleCount > maxSamples || acc.bytes > maxBytes;
      if (full || acc.size > maxOpen) {
        // Keep a few recent days open: Apple's order within a type is by time, nearly. Over the
        // sample or byte bound, everything but the chunk being written goes.
        const out = acc.drain(full ? Math.max(1, acc.size - 1) : acc.size - Math.floor(maxOpen / 2));
        if (out.length) await store.chunks(out);
      }
    },
    records: (batch: RecordInput[]) => store.records(batch),
    unusable(n: number) {
      leftOut += n;
    },
    async finish() {
      const out = acc.drainAll();
      if (out.length) await store.chunks(out);
    },
  };
}
