/**
 * Streaming parser for Apple Health's export.xml. Memory stays constant whatever the file size
 * (real exports reach gigabytes, past V8's ~512 MB string limit): the file is fed to saxes one
 * chunk at a time and what it yields leaves through the sink in batches.
 */
import { appleSleepStage } from '../series/sleep-stages.js';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import type { QuantitySample, RecordInput } from '../types.js';
import {
  activitySummaryRecord,
  appleUnitToUcum,
  CategoryDays,
  correlationRecord,
  genericRecord,
  missingClinicalRecord,
  profileRecord,
  workoutRecord,
  type Attrs,
  type MetadataEntry,
  type WorkoutParts,
} from './build.js';
import { parseAppleDate } from './dates.js';
import { ImportError } from './errors.js';
import { MORE, newFastRecord, scanRecord } from './fast-record.js';
import { SleepNights, sleepSamples } from './sleep-nights.js';

/**
 * Where parsed data goes. The parser awaits each call and reads no more input meanwhile, so a
 * slow sink (the server encrypting and storing) holds the upload back instead of filling memory.
 */
export interface AppleHealthSink {
  samples(batch: QuantitySample[]): void | Promise<void>;
  records(batch: RecordInput[]): void | Promise<void>;
  /** Told of samples left out before they reach `samples`: quantity records with no type or no unit. */
  unusable?(n: number): void;
}

/** What a ClinicalRecord resolves to (the FHIR transformer's output). */
export interface TransformOutput {
  records: RecordInput[];
  samples: QuantitySample[];
}

/**
 * Looks up a `<ClinicalRecord>`'s FHIR JSON (by its `resourceFilePath`) and transforms it;
 * returns null when the JSON is not available.
 */
export type ClinicalResolver = (attrs: Record<string, string>) => Promise<TransformOutput | null>;

/** Options of {@link parseExportXml}. */
export interface ParseOptions {
  /** Absent: every ClinicalRecord is kept as a "missing" record (bare export.xml upload). */
  clinical?: ClinicalResolver;
  /** Called as input is consumed, with the bytes of XML read so far. */
  onBytes?(bytes: number): void;
  signal?: AbortSignal;
  /** Samples per sink call (default 8192). */
  sampleBatch?: number;
  /** Records per sink call (default 256). */
  recordBatch?: number;
  /**
   * Read plain self-closing top-level `<Record .../>` tags directly instead of through saxes
   * (default true; same output either way, false is for differential tests).
   */
  fastPath?: boolean;
}

/** What a parse saw, for the import summary. */
export interface ParseResult {
  /** Element and outcome counts: Record, Workout, ActivitySummary, ClinicalRecord, samples, records... */
  counts: Record<string, number>;
  exportDate: string | null;
  locale: string | null;
  bytes: number;
}

// ---------------------------------------------------------------------------------------------
// Control characters. Apple sometimes writes raw C0 controls (U+000B, U+0001...) into attribute
// values (device names, metadata from third-party apps); XML 1.0 forbids them and saxes would
// stop. Bytes below 0x20 only ever encode those characters in UTF-8 (multi-byte sequences use
// bytes >= 0x80), so removing them byte by byte is safe at any chunk boundary and needs no state.

const isBad = (c: number): boolean => c < 0x20 && c !== 0x0a && c !== 0x09 && c !== 0x0d;

const EMPTY_U32 = new Uint32Array(0);

/** Index of the first control byte to strip, or -1. */
function firstBad(buf: Buffer): number {
  const n = buf.length;
  let i = 0;
  while (i < n && ((buf.byteOffset + i) & 3) !== 0) {
    if (isBad(buf[i]!)) return i;
    i++;
  }
  // Four bytes at a time: (w - 0x20202020) & ~w & 0x80808080 is non-zero iff some byte of w is
  // below 0x20. Newlines trip it once a line, then the four bytes are checked one by one. About
  // 3x faster than a byte loop, which matters at gigabytes.
  const nw = (n - i) >> 2;
  const u32 = nw > 0 ? new Uint32Array(buf.buffer, buf.byteOffset + i, nw) : EMPTY_U32;
  for (let k = 0; k < nw; k++) {
    const w = u32[k]!;
    if (((w - 0x20202020) & ~w & 0x80808080) !== 0) {
      const p = i + k * 4;
      if (isBad(buf[p]!)) return p;
      if (isBad(buf[p + 1]!)) return p + 1;
      if (isBad(buf[p + 2]!)) return p + 2;
      if (isBad(buf[p + 3]!)) return p + 3;
    }
  }
  for (let p = i + nw * 4; p < n; p++) if (isBad(buf[p]!)) return p;
  return -1;
}

/** Returns `buf` without C0 control bytes other than tab, LF and CR (the same buffer if none). */
export function stripControlChars(buf: Buffer): Buffer {
  let i = firstBad(buf);
  if (i < 0) return buf;
  const n = buf.length;
  const out = Buffer.allocUnsafe(n);
  buf.copy(out, 0, 0, i);
  let w = i;
  for (; i < n; i++) {
    const c = buf[i]!;
    if (!isBad(c)) out[w++] = c;
  }
  return out.subarray(0, w);
}

/** Stream form of {@link stripControlChars}, for callers that pipe. */
export class ControlCharStripper extends Transform {
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const out = stripControlChars(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    cb(null, out.length ? out : undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// Owned strings. V8 makes a substring of 13+ characters a view into its parent string, so every
// attribute value saxes or the fast path hands out keeps the whole decoded input chunk it came
// from (~2 MB) alive. Kept for the length of one chunk that is harmless; kept longer (a category
// day waiting for its last sample, a correlation waiting in a record batch, a source name in an
// open day chunk) it pins one input chunk per kept value, and in an export whose types are
// interleaved those are all different chunks: memory then grows with how the file is ordered.
// What outlives its chunk is copied first.

/** A copy of `s` that shares no memory with the string it was cut from. */
export function owned(s: string): string {
  // Flattening the concatenation copies the characters; slicing then views that copy only.
  return s.length < 13 ? s : (' ' + s).slice(1);
}

/** Attributes (or any plain JSON value) with every string owned. */
export function ownedCopy<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Interned type and source names: equal names share one owned string, and the table is bounded. */
class Names {
  readonly #map = new Map<string, string>();
  get(s: string): string {
    const hit = this.#map.get(s);
    if (hit !== undefined) return hit;
    const own = owned(s);
    if (this.#map.size < 4096 && s.length <= 256) this.#map.set(own, own);
    return own;
  }
}

// ---------------------------------------------------------------------------------------------
// DOCTYPE. Apple's export carries an internal DTD of ELEMENT/ATTLIST declarations. saxes never
// interprets a DTD (it only knows the five predefined entities), but entity declarations are
// refused anyway: they are the vector for billion-laughs and external-entity attacks, Apple
// never writes them, and refusing makes the guarantee independent of the parser.

/**
 * The DOCTYPE's markup with comments, processing instructions and quoted literals blanked, read
 * left to right the way an XML tokenizer reads them (saxes does the same in its DTD states). Each
 * construct ends where its own terminator is, so a quote inside a PI or comment cannot open a
 * "literal" that hides a declaration behind it, and "-->" inside a literal ends nothing.
 */
export function doctypeMarkup(text: string): string {
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    let end: number;
    if (text.startsWith('<!--', i)) end = skipTo(text, i + 4, '-->');
    else if (text.startsWith('<?', i)) end = skipTo(text, i + 2, '?>');
    else if (c === '"' || c === "'") {
      end = skipTo(text, i + 1, c);
      out += '""';
      i = end;
      continue;
    } else {
      out += c;
      i++;
      continue;
    }
    out += ' ';
    i = end;
  }
  return out;
}

/** Index just past the first `term` at or after `from`, or the text's end when there is none. */
function skipTo(text: string, from: number, term: string): number {
  const k = text.indexOf(term, from);
  return k < 0 ? text.length : k + term.length;
}

/** Throws an 'xml_entity' ImportError when a DOCTYPE's text declares entities or refers outside. */
export function checkDoctype(text: string): void {
  const bare = doctypeMarkup(text);
  if (/<!\s*ENTITY/i.test(bare)) {
    throw new ImportError(
      'xml_entity',
      'This export.xml declares XML entities (<!ENTITY ...>). Apple Health exports never do, and such files can be used to attack the server, so it was refused.',
    );
  }
  if (/\b(SYSTEM|PUBLIC)\b/.test(bare)) {
    throw new ImportError(
      'xml_entity',
      'This export.xml refers to an external file in its DOCTYPE (SYSTEM or PUBLIC). Apple Health exports never do, so it was refused.',
    );
  }
  if (/%[A-Za-z_:][\w.:-]*;/.test(bare)) {
    throw new ImportError('xml_entity', 'This export.xml uses parameter entities in its DOCTYPE. Apple Health exports never do, so it was refused.');
  }
}

const SLEEP = 'HKCategoryTypeIdentifierSleepAnalysis';
// Stages that count as asleep; InBed and Awake do not. "Asleep" is the pre-iOS 16 value.
const ASLEEP = new Set([
  'HKCategoryValueSleepAnalysisAsleep',
  'HKCategoryValueSleepAnalysisAsleepUnspecified',
  'HKCategoryValueSleepAnalysisAsleepCore',
  'HKCategoryValueSleepAnalysisAsleepDeep',
  'HKCategoryValueSleepAnalysisAsleepREM',
]);

type Current =
  | { kind: 'record'; attrs: Attrs; meta: MetadataEntry[] }
  | { kind: 'correlation'; attrs: Attrs; meta: MetadataEntry[]; children: Attrs[] }
  | { kind: 'workout'; attrs: Attrs; parts: WorkoutParts }
  | { kind: 'generic'; name: string; attrs: Attrs; meta: MetadataEntry[]; children: Array<{ name: string; attributes: Attrs }> };

// Position tracking is off in saxes (it costs ~5-10% of parse time on every character), so an
// error is located by the chunk of input it occurred in: enough to tell a truncated file from
// a damaged one.
function xmlError(e: Error, byteOffset: number): ImportError {
  const msg = e.message.replace(/^[^:]*:\d+:\d+: /, '');
  const where = byteOffset > 0 ? ` (around byte ${byteOffset.toLocaleString('en-US')})` : '';
  if (/unclosed tag|document must contain a root element/i.test(msg)) {
    return new ImportError(
      'xml_invalid',
      `The export.xml ends too early${where}: the file looks truncated or incomplete. Export it again from the Health app and upload the new file.`,
      { cause: e },
    );
  }
  return new ImportError('xml_invalid', `The export.xml is not valid XML${where}: ${msg} Export it again from the Health app and upload the new file.`, {
    cause: e,
  });
}

/**
 * Parses an export.xml stream into samples and records, sent to `sink` in batches. Throws an
 * {@link ImportError} ('xml_invalid', 'xml_entity', 'not_apple_health') or the signal's reason.
 */
export async function parseExportXml(input: Readable | AsyncIterable<Buffer | string>, sink: AppleHealthSink, opts: ParseOptions = {}): Promise<ParseResult> {
  const sampleBatch = opts.sampleBatch ?? 8192;
  const recordBatch = opts.recordBatch ?? 256;
  const counts: Record<string, number> = Object.create(null) as Record<string, number>;
  const inc = (k: string, n = 1) => {
    counts[k] = (counts[k] ?? 0) + n;
  };
  let samples: QuantitySample[] = [];
  let records: RecordInput[] = [];
  let clinical: Attrs[] = [];
  let exportDate: string | null = null;
  let locale: string | null = null;
  let depth = 0;
  let cur: Current | null = null;
  let nSamples = 0;
  let nRecords = 0;

  // Consecutive records repeat the same strings; sharing one copy keeps open batches small and
  // turns the accumulator's string comparisons into identity checks.
  let lastSource = '';
  let lastType = '';
  let lastUnitIn = '';
  let lastUnit = '';
  let lastLocalDate = '\u0000';
  let nRecordEls = 0;

  const names = new Names();
  const categories = new CategoryDays();
  let syntheticOpen = false;
  const pushRecord = (r: RecordInput | null) => {
    if (r) records.push(r);
  };

  /** A quantity record whose `value` is numeric (checked by the caller). */
  const quantity = (a: Attrs, type: string, value: number): void => {
    quantityOf(type, a.sourceName, a.unit, a.startDate, a.endDate, value);
  };

  const quantityOf = (
    type: string,
    source: string | undefined,
    unit: string | undefined,
    sd: string | undefined,
    ed: string | undefined,
    value: number,
  ): void => {
    const startMs = sd === undefined ? NaN : parseAppleDate(sd);
    // Instantaneous samples (heart rate, weight) repeat the start as the end.
    const endMs = ed === sd ? startMs : ed === undefined ? NaN : parseAppleDate(ed);
    if (value !== value || startMs !== startMs || endMs !== endMs) {
      // Counted apart from values left out, so the job result can say the dates were the problem.
      inc('invalidDate');
      return;
    }
    // Apple writes both on every quantity record. Without a type there is no series to put it in;
    // without a unit its value means nothing, and as its day's first sample it would set the
    // day's unit to "" and leave out every proper sample after it.
    if (!type || !unit) {
      inc(type ? 'recordsWithoutUnit' : 'recordsWithoutType');
      sink.unusable?.(1);
      return;
    }
    if (type === lastType) type = lastType;
    else type = lastType = names.get(type);
    let sourceName = source ?? '';
    if (sourceName === lastSource) sourceName = lastSource;
    else sourceName = lastSource = names.get(sourceName);
    if (unit !== lastUnitIn) {
      lastUnitIn = unit;
      lastUnit = appleUnitToUcum(unit);
    }
    // Apple writes percentages as fractions (0.97 for 97 %); UCUM "%" means hundredths.
    const val = unit === '%' ? Number((value * 100).toPrecision(12)) : value;
    let localDate = lastLocalDate;
    if (!sd!.startsWith(localDate)) localDate = lastLocalDate = sd!.slice(0, 10);
    samples.push({ type, unit: lastUnit, startMs, endMs, localDate, value: val, sourceName });
  };

  // Sleep segments wait for their night to be complete, then count towards its start's date.
  const nights = new SleepNights((seg, localDate) => {
    for (const s of sleepSamples(seg, localDate, SLEEP)) samples.push(s);
  });

  const sleep = (a: { value?: string | undefined; startDate?: string | undefined; endDate?: string | undefined; sourceName?: string | undefined }): void => {
    inc('sleepRecords');
    const stage = appleSleepStage(a.value);
    if (!stage) return;
    const sd = a.startDate ?? '';
    const startMs = parseAppleDate(sd);
    const endMs = parseAppleDate(a.endDate ?? '');
    if (startMs !== startMs || endMs !== endMs || endMs < startMs) {
      inc('invalidDate');
      return;
    }
    // Every stage is its own series (minutes per night); the asleep ones also make up minutes
    // asleep. Held segments outlive the input chunk, so they keep no string cut from it (see owned()).
    nights.add({
      sourceName: names.get(a.sourceName ?? ''),
      stage: names.get(stage),
      asleep: ASLEEP.has(a.value ?? ''),
      startMs,
      endMs,
      startDate: owned(sd.slice(0, 10)),
    });
  };

  const parser = new SaxesParser({ xmlns: false, position: false });

  parser.on('doctype', (text) => checkDoctype(text));

  parser.on('opentag', (tag: SaxesTagPlain) => {
    const d = depth++;
    if (syntheticOpen) {
      // A Record the fast path already read (see takeRecord): only its depth counts here.
      syntheticOpen = false;
      return;
    }
    const name = tag.name;
    const raw = tag.attributes as Attrs;
    if (d === 1) {
      const a = raw;
      // Hot path: nearly every element of a real export is a top-level quantity Record.
      if (name === 'Record') {
        nRecordEls++;
        const type = a.type ?? '';
        // 'C' at index 2: HKCategoryTypeIdentifier..., never HKQuantityTypeIdentifier...
        if (type.charCodeAt(2) === 67 && type.startsWith('HKCategoryTypeIdentifier')) {
          if (type === SLEEP) sleep(a);
          else cur = { kind: 'record', attrs: ownedCopy(a), meta: [] };
          return;
        }
        const v = a.value;
        const value = v === undefined || v === '' ? NaN : +v;
        if (value === value) quantity(a, type, value);
        else cur = { kind: 'record', attrs: ownedCopy(a), meta: [] };
        return;
      }
      inc(name);
      // Everything below outlives the input chunk (in a record batch, a category day, an open
      // element), so it gets its own copies of the strings (see owned()).
      switch (name) {
        case 'Workout':
          cur = { kind: 'workout', attrs: ownedCopy(a), parts: { metadata: [], events: [], statistics: [], routes: [] } };
          return;
        case 'Correlation':
          cur = { kind: 'correlation', attrs: ownedCopy(a), meta: [], children: [] };
          return;
        case 'ActivitySummary': {
          const r = activitySummaryRecord(ownedCopy(a));
          if (r) pushRecord(r);
          else inc('ActivitySummaryEmpty');
          return;
        }
        case 'ClinicalRecord':
          clinical.push(ownedCopy(a));
          return;
        case 'Me':
          pushRecord(profileRecord(ownedCopy(a)));
          return;
        case 'ExportDate':
          exportDate = a.value === undefined ? null : owned(a.value);
          return;
        default:
          cur = { kind: 'generic', name: owned(name), attrs: ownedCopy(a), meta: [], children: [] };
          return;
      }
    }
    const a = d === 0 || cur === null ? raw : ownedCopy(raw);
    if (d === 0) {
      if (name !== 'HealthData') {
        throw new ImportError(
          'not_apple_health',
          `This XML file is not an Apple Health export (its root element is <${name}>, not <HealthData>). Upload export.zip or the export.xml inside it.`,
        );
      }
      locale = a.locale === undefined ? null : owned(a.locale);
      return;
    }
    if (cur === null) return;
    if (d === 2) {
      if (name === 'MetadataEntry') {
        const m = { key: a.key ?? '', value: a.value ?? '' };
        if (cur.kind === 'workout') cur.parts.metadata.push(m);
        else cur.meta.push(m);
        return;
      }
      switch (cur.kind) {
        case 'correlation':
          if (name === 'Record') cur.children.push(a);
          return;
        case 'workout':
          if (name === 'WorkoutEvent') cur.parts.events.push(a);
          else if (name === 'WorkoutStatistics') cur.parts.statistics.push(a);
          else if (name === 'WorkoutRoute') cur.parts.routes.push({ attributes: a, files: [], metadata: [] });
          return;
        case 'generic':
          cur.children.push({ name: owned(name), attributes: a });
          return;
        default:
          return;
      }
    }
    if (d === 3 && cur.kind === 'workout') {
      const route = cur.parts.routes[cur.parts.routes.length - 1];
      if (!route) return;
      if (name === 'FileReference' && a.path) route.files.push(a.path);
      else if (name === 'MetadataEntry') route.metadata.push({ key: a.key ?? '', value: a.value ?? '' });
    }
  });

  parser.on('closetag', () => {
    if (--depth !== 1 || cur === null) return;
    const c = cur;
    cur = null;
    switch (c.kind) {
      case 'record':
        // Category samples are records; a quantity record without a numeric value is unusable.
        if ((c.attrs.type ?? '').startsWith('HKCategoryTypeIdentifier')) {
          inc('categoryRecords');
          categories.add(c.attrs, c.meta, records);
        } else {
          inc('invalid');
          sink.unusable?.(1);
        }
        return;
      case 'correlation': {
        pushRecord(correlationRecord(c.attrs, c.meta, c.children));
        // Apple also writes a correlation's members as top-level records; emitting them here as
        // well is harmless (day chunks drop exact duplicates) and covers exports that don't.
        for (const child of c.children) {
          const value = child.value === undefined || child.value === '' ? NaN : +child.value;
          if (value === value && child.type) quantity(child, child.type, value);
        }
        return;
      }
      case 'workout':
        pushRecord(workoutRecord(c.attrs, c.parts));
        return;
      case 'generic':
        pushRecord(genericRecord(c.name, c.attrs, c.meta, c.children));
        return;
    }
  });

  parser.on('error', (e) => {
    throw xmlError(e, chunkStart);
  });

  const flush = async (all: boolean): Promise<void> => {
    if (all) {
      categories.drain(records);
      nights.drain();
    }
    if (clinical.length) {
      const refs = clinical;
      clinical = [];
      for (const a of refs) {
        const out = opts.clinical ? await opts.clinical(a) : null;
        if (out === null) {
          inc('clinicalMissing');
          records.push(missingClinicalRecord(a, opts.clinical ? `${a.resourceFilePath ?? 'its file'} is not in the zip` : 'only export.xml was uploaded'));
        } else {
          for (const r of out.records) records.push(r);
          for (const s of out.samples) samples.push(s);
        }
      }
    }
    if (samples.length && (all || samples.length >= sampleBatch)) {
      const b = samples;
      samples = [];
      nSamples += b.length;
      await sink.samples(b);
    }
    if (records.length && (all || records.length >= recordBatch)) {
      const b = records;
      records = [];
      nRecords += b.length;
      await sink.records(b);
    }
  };

  // TextDecoder streams UTF-8 ~1.4x faster than StringDecoder here; ignoreBOM keeps a BOM in the
  // text, as StringDecoder did, for saxes to skip.
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let bytes = 0;
  let chunkStart = 0;
  const signal = opts.signal;
  const write = (s: string) => {
    try {
      parser.write(s);
    } catch (e) {
      throw e instanceof ImportError ? e : xmlError(e as Error, chunkStart);
    }
  };

  // Fast path. Saxes sees everything except plain self-closing top-level Records, which
  // scanRecord reads directly. A Record is only taken from saxes when saxes sits between
  // elements inside <HealthData> (its text state, nothing carried over, no "]]" pending) and no
  // element of ours is open, so skipping the tag (and the whitespace around it) leaves saxes in
  // exactly the state parsing it would have. The DOCTYPE, and so the entity check, always comes
  // before <HealthData> opens, hence before any Record is accepted.
  const fast = opts.fastPath !== false;
  const sx = parser as unknown as { state: unknown; carriedFromPrevious: unknown; forbiddenState: unknown };
  const textState = (new SaxesParser({ fragment: true }) as unknown as { state: unknown }).state;
  const atTopLevel = () => depth === 1 && cur === null && sx.state === textState && sx.carriedFromPrevious === undefined && sx.forbiddenState === 0;
  const fr = newFastRecord();
  const MAX_HELD = 1 << 16;
  /** Text not yet given to saxes: the start of a Record tag cut by the chunk's end. */
  let held = '';

  /**
   * Handles one scanned Record as the opentag handler would; false when saxes must do it. A
   * Record with children (`<Record ...>`) is taken only where the handler ignores children (a
   * numeric quantity, sleep): saxes then gets a bare `<Record>` in its place, so it still checks
   * the children and the closing tag while the handler skips that element (`syntheticOpen`).
   */
  const takeRecord = (): boolean => {
    const type = fr.type ?? '';
    if (type.charCodeAt(2) === 67 && type.startsWith('HKCategoryTypeIdentifier')) {
      if (type !== SLEEP) return false;
      nRecordEls++;
      sleep(fr);
    } else {
      const v = fr.value;
      const value = v === undefined || v === '' ? NaN : +v;
      if (value !== value) return false;
      nRecordEls++;
      quantityOf(type, fr.sourceName, fr.unit, fr.startDate, fr.endDate, value);
    }
    if (fr.open) {
      syntheticOpen = true;
      write('<Record>');
    }
    return true;
  };

  const isSpace = (s: string, from: number, to: number): boolean => {
    for (let k = from; k < to; k++) {
      const c = s.charCodeAt(k);
      if (c !== 32 && c !== 10 && c !== 9 && c !== 13) return false;
    }
    return true;
  };

  const feed = (text: string, final: boolean): void => {
    if (!fast) {
      if (text.length) write(text);
      return;
    }
    const s = held.length ? held + text : text;
    held = '';
    const n = s.length;
    let i = 0;
    for (;;) {
      const j = s.indexOf('<Record', i);
      if (j < 0) {
        let end = n;
        // Keep a trailing "<Rec" for the next chunk, where it may be a whole fast Record.
        if (!final) {
          const k = s.lastIndexOf('<');
          if (k >= i && n - k < 7 && '<Record'.startsWith(s.slice(k))) end = k;
        }
        if (end > i) write(s.slice(i, end));
        held = s.slice(end);
        return;
      }
      let top: boolean;
      if (j > i && !(isSpace(s, i, j) && atTopLevel())) {
        write(s.slice(i, j));
        top = atTopLevel();
      } else top = j === i ? atTopLevel() : true;
      if (top) {
        const end = scanRecord(s, j, fr);
        if (end >= 0) {
          if (takeRecord()) {
            i = end;
            continue;
          }
        } else if (end === MORE && !final && n - j < MAX_HELD) {
          held = s.slice(j);
          return;
        }
      }
      // Saxes parses this one: give it the tag's start, the rest follows with the next gap.
      write(s.slice(j, j + 7));
      i = j + 7;
    }
  };

  try {
    for await (const raw of input) {
      signal?.throwIfAborted();
      const buf = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
      chunkStart = bytes;
      bytes += buf.length;
      const text = decoder.decode(stripControlChars(buf), { stream: true });
      if (text.length || held.length) feed(text, false);
      if (samples.length >= sampleBatch || records.length >= recordBatch || clinical.length) await flush(false);
      opts.onBytes?.(bytes);
    }
    signal?.throwIfAborted();
    feed(decoder.decode(), true);
    try {
      parser.close();
    } catch (e) {
      throw e instanceof ImportError ? e : xmlError(e as Error, chunkStart);
    }
    await flush(true);
  } catch (e) {
    if (typeof (input as Readable).destroy === 'function') (input as Readable).destroy();
    throw e;
  }
  if (nRecordEls) counts.Record = nRecordEls;
  counts.samples = nSamples;
  counts.records = nRecords;
  return { counts: { ...counts }, exportDate, locale, bytes };
}
