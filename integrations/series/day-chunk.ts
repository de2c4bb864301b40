/**
 * Day chunks: the storage unit for health time series. One chunk holds every sample of one
 * (type, local day); the server encrypts a chunk as a whole, so a year of 5-second heart rate is
 * 365 ciphertexts rather than six million rows.
 */
import type { QuantitySample } from '../types.js';
import { convertValue, unitConversion } from './units.js';

/**
 * The largest sample value kept: far above any health measurement (a marathon is 4.2e4 m, a
 * day's energy 1e4 kJ), and small enough that a day's sum of samples stays finite and exact
 * enough (a value of 1e308 made a day's sum infinite).
 */
export const MAX_MAGNITUDE = 1e15;

/** Daily summary kept inside a chunk, so retrieval can answer "how many steps" without samples. */
export interface DayStats {
  count: number;
  min: number;
  max: number;
  mean: number;
  sum: number;
}

/** The statistics of two sets of samples taken together: a mean is weighted by its samples. */
export function pooledStats<S extends DayStats>(a: S, b: DayStats): S {
  const count = a.count + b.count;
  return { ...a, count, min: Math.min(a.min, b.min), max: Math.max(a.max, b.max), mean: (a.mean * a.count + b.mean * b.count) / count, sum: a.sum + b.sum };
}

/** One (type, local day) of samples. `samples` are sorted by start and free of exact duplicates. */
export interface DayChunk {
  v: 1;
  type: string;
  /** Local calendar date, YYYY-MM-DD. */
  date: string;
  unit: string;
  /** Source names; `samples[i][3]` indexes into this list. */
  sources: string[];
  samples: Array<[startMs: number, durationMs: number, value: number, sourceIdx: number]>;
  stats: DayStats;
}

type Tuple = DayChunk['samples'][number];

const EMPTY_STATS: DayStats = Object.freeze({ count: 0, min: 0, max: 0, mean: 0, sum: 0 });

// Cumulative types add up over a day; devices that record the same activity (iPhone and Apple
// Watch during one walk) each write their own samples, so summing all of them double counts.
const CUMULATIVE = new Set<string>([
  'HKQuantityTypeIdentifierStepCount',
  'HKQuantityTypeIdentifierDistanceWalkingRunning',
  'HKQuantityTypeIdentifierDistanceCycling',
  'HKQuantityTypeIdentifierDistanceSwimming',
  'HKQuantityTypeIdentifierDistanceWheelchair',
  'HKQuantityTypeIdentifierDistanceDownhillSnowSports',
  'HKQuantityTypeIdentifierActiveEnergyBurned',
  'HKQuantityTypeIdentifierBasalEnergyBurned',
  'HKQuantityTypeIdentifierFlightsClimbed',
  'HKQuantityTypeIdentifierAppleExerciseTime',
  'HKQuantityTypeIdentifierAppleStandTime',
  'HKQuantityTypeIdentifierAppleMoveTime',
  'HKQuantityTypeIdentifierPushCount',
  'HKQuantityTypeIdentifierSwimmingStrokeCount',
  'HKQuantityTypeIdentifierNikeFuel',
  'HKQuantityTypeIdentifierTimeInDaylight',
  'HKQuantityTypeIdentifierNumberOfTimesFallen',
  // Minutes asleep per day, derived from sleep stages: a watch and a sleep app overlap too.
  'HKCategoryTypeIdentifierSleepAnalysis',
  '41950-7', // LOINC: number of steps in 24 hours, measured
  '55423-8', // LOINC: number of steps in unspecified time, pedometer
  '41981-2', // LOINC: calories burned
  '93816-7', // LOINC: physical activity duration
]);

// Sleep stages (sleep-stages.ts): minutes per stage per night.
const CUMULATIVE_PREFIXES = ['HKQuantityTypeIdentifierDietary', 'HKCategoryValueSleepAnalysis'];

/**
 * Whether a type's daily value is a sum (steps, distance, energy, dietary intake) rather than a
 * set of readings (heart rate, weight, blood pressure).
 */
export function isCumulative(type: string): boolean {
  if (CUMULATIVE.has(type)) return true;
  for (const p of CUMULATIVE_PREFIXES) if (type.startsWith(p)) return true;
  return false;
}

/** Declares more cumulative types (for integrations whose codes are not listed here). */
export function registerCumulativeType(type: string): void {
  CUMULATIVE.add(type);
}

/** A chunk with no samples. */
export function emptyChunk(type: string, date: string, unit: string): DayChunk {
  return { v: 1, type, date, unit, sources: [], samples: [], stats: { ...EMPTY_STATS } };
}

function cmpTuple(a: Tuple, b: Tuple): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2] || a[3] - b[3];
}

/** Sorts and removes exact duplicates in place; tuples must share one `sources` list. */
function sortDedup(rows: Tuple[]): Tuple[] {
  // Data usually arrives in time order, so check before paying for a sort.
  let sorted = true;
  for (let i = 1; i < rows.length; i++) {
    if (cmpTuple(rows[i - 1]!, rows[i]!) > 0) {
      sorted = false;
      break;
    }
  }
  if (!sorted) rows.sort(cmpTuple);
  let w = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (w > 0) {
      const p = rows[w - 1]!;
      if (p[0] === r[0] && p[1] === r[1] && p[2] === r[2] && p[3] === r[3]) continue;
    }
    rows[w++] = r;
  }
  rows.length = w;
  return rows;
}

/**
 * Merges samples into a chunk and recomputes its stats; the input chunk is not modified.
 * A sample equal to one already stored (same start, end, value and sourceName) is stored once,
 * so re-importing an overlapping export never double counts. Samples of another type or local
 * date are a caller bug, and a sample {@link ChunkBuilder.add} leaves out is refused here: both throw.
 */
export function addSamples(chunk: DayChunk, samples: readonly QuantitySample[]): DayChunk {
  const b = new ChunkBuilder(chunk.type, chunk.date, chunk.unit, chunk.sources.slice(), chunk.samples.slice());
  for (let i = 0; i < samples.length; i++) {
    if (!b.add(samples[i]!))
      throw new RangeError(`cannot use a ${chunk.type} sample: ${samples[i]!.unit} does not convert to ${chunk.unit}, or its value is not plausible`);
  }
  return b.build();
}

/** Collects samples for one chunk; shared by {@link addSamples} and {@link SeriesAccumulator}. */
class ChunkBuilder {
  private readonly index = new Map<string, number>();
  private lastName: string | undefined;
  private lastIdx = -1;
  /** Rough heap bytes of the source names held (UTF-16 plus map entry). */
  nameBytes = 0;

  constructor(
    readonly type: string,
    readonly date: string,
    readonly unit: string,
    private readonly sources: string[] = [],
    private readonly rows: Tuple[] = [],
  ) {
    for (let i = 0; i < sources.length; i++) this.index.set(sources[i]!, i);
  }

  get length(): number {
    return this.rows.length;
  }

  /**
   * Adds a sample, converted to the chunk's unit, or leaves it out and answers false: a value that
   * is not finite or not plausible ({@link MAX_MAGNITUDE}), or whose unit does not convert to the
   * chunk's. One odd record must not sink an import, nor turn a day's statistics infinite.
   */
  add(s: QuantitySample): boolean {
    if (s.type !== this.type || s.localDate !== this.date) {
      throw new RangeError(`sample ${s.type} ${s.localDate} does not belong in chunk ${this.type} ${this.date}`);
    }
    let value = s.value;
    if (s.unit !== this.unit) {
      const c = unitConversion(s.unit, this.unit, this.type);
      if (c === undefined) return false;
      value = convertValue(value, c);
    }
    if (!(Math.abs(value) <= MAX_MAGNITUDE) || !Number.isFinite(s.startMs) || !Number.isFinite(s.endMs)) return false;
    let idx: number;
    if (s.sourceName === this.lastName) idx = this.lastIdx;
    else {
      const found = this.index.get(s.sourceName);
      if (found === undefined) {
        idx = this.sources.length;
        this.sources.push(s.sourceName);
        this.index.set(s.sourceName, idx);
        this.nameBytes += 2 * s.sourceName.length + 64;
      } else idx = found;
      this.lastName = s.sourceName;
      this.lastIdx = idx;
    }
    this.rows.push([s.startMs, s.endMs - s.startMs, value, idx]);
    return true;
  }

  build(): DayChunk {
    const out: DayChunk = { v: 1, type: this.type, date: this.date, unit: this.unit, sources: this.sources, samples: sortDedup(this.rows), stats: EMPTY_STATS };
    out.stats = computeStats(out);
    return out;
  }
}

/**
 * Merges two chunks of the same (type, date): what the store does when an import brings a chunk
 * for a day it already holds. Duplicates across the two are stored once.
 */
export function mergeChunks(a: DayChunk, b: DayChunk): DayChunk {
  if (a.type !== b.type || a.date !== b.date) throw new RangeError('mergeChunks: different (type, date)');
  const c = unitConversion(b.unit, a.unit, a.type);
  if (c === undefined) throw new RangeError(`cannot convert ${b.unit} to ${a.unit} for ${a.type}`);
  const sources = a.sources.slice();
  const remap = b.sources.map((name) => {
    const i = sources.indexOf(name);
    if (i >= 0) return i;
    sources.push(name);
    return sources.length - 1;
  });
  const rows: Tuple[] = a.samples.slice();
  for (const [st, d, v, si] of b.samples) rows.push([st, d, convertValue(v, c), remap[si]!]);
  const out: DayChunk = { v: 1, type: a.type, date: a.date, unit: a.unit, sources, samples: sortDedup(rows), stats: a.stats };
  out.stats = computeStats(out);
  return out;
}

/**
 * Daily stats. Discrete types (heart rate, weight, blood pressure): over every sample.
 * Cumulative types ({@link isCumulative}): over the samples of the one source with the largest
 * sum that day. Apple's Health app instead merges sources per time interval by a priority list;
 * taking the best single source matches it whenever one device carried the day (the usual case:
 * the watch when worn, the phone otherwise), never double counts, and only under-counts a day
 * split between devices (watch charging for an hour while the phone walks).
 */
export function computeStats(chunk: DayChunk): DayStats {
  const rows = chunk.samples;
  return statsOf(
    chunk.type,
    chunk.sources,
    rows.length,
    (i) => rows[i]![2],
    (i) => rows[i]![3],
  );
}

/** {@link computeStats} of a chunk given as columns. */
export function columnStats(meta: Pick<DayChunk, 'type' | 'sources'>, c: SampleColumns): DayStats {
  return statsOf(
    meta.type,
    meta.sources,
    c.n,
    (i) => c.value[i]!,
    (i) => c.source[i]!,
  );
}

function statsOf(type: string, sources: readonly string[], n: number, valueAt: (i: number) => number, sourceAt: (i: number) => number): DayStats {
  if (n === 0) return { count: 0, min: 0, max: 0, mean: 0, sum: 0 };
  let pick = -1;
  if (isCumulative(type) && sources.length > 1) {
    const sums = new Array<number>(sources.length).fill(0);
    for (let i = 0; i < n; i++) sums[sourceAt(i)] = sums[sourceAt(i)]! + valueAt(i);
    pick = 0;
    for (let i = 1; i < sums.length; i++) {
      const better = sums[i]! > sums[pick]! || (sums[i] === sums[pick] && sources[i]! < sources[pick]!);
      if (better) pick = i;
    }
  }
  let count = 0;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    if (pick >= 0 && sourceAt(i) !== pick) continue;
    const v = valueAt(i);
    count++;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { count, min, max, mean: sum / count, sum };
}

// ---------------------------------------------------------------------------------------------
// Encoding. Binary, columnar, delta + varint: a day of 5-second heart rate (17,280 samples) is
// ~86 KB against ~420 KB of JSON, and encodes/decodes faster than JSON (see the bench and
// tests). Layout (little endian):
//   "CVDC" u8 version=1 u8 flags u32 headerLen header(JSON: type,date,unit,sources,stats) u32 n
//   then n starts (first as f64, the rest as varint deltas, or all f64 if flags&2),
//   n durations (zigzag varint, or f64 if flags&2), n values (if flags&1: zigzag varint of
//   value * 10^k with k = flags>>2, chosen so every value round-trips exactly; else f64),
//   n source indexes (varint). Scaled integers matter: energy (0.183 kcal) and audio levels
//   (68.0391 dB) would otherwise cost 8 bytes a value.
// decodeChunk also accepts a JSON chunk, so the format can change without a migration.

const MAGIC = 0x43445643; // "CVDC" read as u32 LE
const F_INT_VALUES = 1;
const F_FLOAT_TIMES = 2;
const TWO31 = 2 ** 31;

/** A chunk without its samples: what the encoded header holds. */
export type ChunkMeta = Pick<DayChunk, 'type' | 'date' | 'unit' | 'sources' | 'stats'>;

/**
 * A chunk's samples as columns (`n` rows used; the arrays may be longer). 28 bytes a sample in
 * four allocations, against ~90 bytes and one heap object per sample as tuples: what merging
 * stored days decodes into (chunk-merge.ts), so its memory is bytes, not objects to collect.
 */
export interface SampleColumns {
  n: number;
  start: Float64Array;
  dur: Float64Array;
  value: Float64Array;
  source: Uint32Array;
}

export function sampleColumns(capacity = 0): SampleColumns {
  return { n: 0, start: new Float64Array(capacity), dur: new Float64Array(capacity), value: new Float64Array(capacity), source: new Uint32Array(capacity) };
}

/** Makes room for `n` rows; what the columns held is not kept when they grow. */
export function reserveColumns(c: SampleColumns, n: number): void {
  if (c.start.length >= n) return;
  const cap = Math.max(n, Math.ceil(c.start.length * 1.5));
  c.start = new Float64Array(cap);
  c.dur = new Float64Array(cap);
  c.value = new Float64Array(cap);
  c.source = new Uint32Array(cap);
}

/** Bytes the columns' arrays take. */
export function columnBytes(c: SampleColumns): number {
  return c.start.byteLength + c.dur.byteLength + c.value.byteLength + c.source.byteLength;
}

function columnsOf(rows: readonly Tuple[]): SampleColumns {
  const c = sampleColumns(rows.length);
  c.n = rows.length;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    c.start[i] = r[0];
    c.dur[i] = r[1];
    c.value[i] = r[2];
    c.source[i] = r[3];
  }
  return c;
}

function writeVarint(buf: Buffer, p: number, v: number): number {
  if (v < TWO31) {
    while (v >= 0x80) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p++] = v;
    return p;
  }
  while (v >= 0x80) {
    buf[p++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[p++] = v;
  return p;
}

/**
 * Smallest k in 0..7 such that every value equals round(v * 10^k) / 10^k exactly (so decoding
 * with the same expression gives the same double back), or -1 (values stored as f64).
 */
function valueScale(values: Float64Array, n: number): number {
  for (let k = 0; k <= 7; k++) {
    const pow = 10 ** k;
    let ok = true;
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      const m = Math.round(v * pow);
      if (!(Math.abs(m) < 2 ** 52 && m / pow === v)) {
        ok = false;
        break;
      }
    }
    if (ok) return k;
  }
  return -1;
}

const zig = (v: number): number => (v < 0 ? -2 * v - 1 : 2 * v);
const unzig = (u: number): number => (u % 2 === 1 ? -(u + 1) / 2 : u / 2);

/** The most bytes {@link encodeColumns} writes for `n` samples under a header of `headerBytes`. */
export const encodedBound = (n: number, headerBytes: number): number => 14 + headerBytes + n * 40;

/** Serialises a chunk (before encryption). */
export function encodeChunk(chunk: DayChunk): Buffer {
  return encodeColumns(chunk, columnsOf(chunk.samples));
}

/**
 * Serialises a chunk given as columns (sorted, as in a {@link DayChunk}), into `into` when it
 * is large enough ({@link encodedBound}); the result is a view of what was written.
 */
export function encodeColumns(meta: ChunkMeta, c: SampleColumns, into?: Buffer): Buffer {
  const { n, start, dur, value, source } = c;
  let flags = 0;
  for (let i = 0; i < n; i++) {
    if (!Number.isInteger(start[i]) || !Number.isInteger(dur[i]) || start[i]! < 0) flags |= F_FLOAT_TIMES;
  }
  const scale = valueScale(value, n);
  if (scale >= 0) flags |= F_INT_VALUES | (scale << 2);
  const pow = 10 ** Math.max(scale, 0);
  // Deltas between sorted starts are non-negative, so they need no zigzag.
  for (let i = 1; i < n && !(flags & F_FLOAT_TIMES); i++) if (start[i]! < start[i - 1]!) flags |= F_FLOAT_TIMES;
  const header = Buffer.from(JSON.stringify({ type: meta.type, date: meta.date, unit: meta.unit, sources: meta.sources, stats: meta.stats }), 'utf8');
  const size = encodedBound(n, header.length);
  const buf = into && into.length >= size ? into : Buffer.allocUnsafe(size);
  buf.writeUInt32LE(MAGIC, 0);
  buf[4] = 1;
  buf[5] = flags;
  buf.writeUInt32LE(header.length, 6);
  header.copy(buf, 10);
  let p = 10 + header.length;
  buf.writeUInt32LE(n, p);
  p += 4;
  if (flags & F_FLOAT_TIMES) {
    for (let i = 0; i < n; i++) p = buf.writeDoubleLE(start[i]!, p);
    for (let i = 0; i < n; i++) p = buf.writeDoubleLE(dur[i]!, p);
  } else if (n > 0) {
    p = buf.writeDoubleLE(start[0]!, p);
    for (let i = 1; i < n; i++) p = writeVarint(buf, p, start[i]! - start[i - 1]!);
    for (let i = 0; i < n; i++) p = writeVarint(buf, p, zig(dur[i]!));
  }
  if (flags & F_INT_VALUES) for (let i = 0; i < n; i++) p = writeVarint(buf, p, zig(Math.round(value[i]! * pow)));
  else for (let i = 0; i < n; i++) p = buf.writeDoubleLE(value[i]!, p);
  for (let i = 0; i < n; i++) p = writeVarint(buf, p, source[i]!);
  return buf.subarray(0, p);
}

const asNodeBuffer = (buf: Uint8Array): Buffer => (Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength));

/**
 * The type, date, unit, sources and stats of an encoded chunk without decoding its samples: a
 * year of daily stats is then 365 small JSON parses, not millions of samples.
 */
export function readChunkHeader(buf: Uint8Array): Omit<DayChunk, 'samples'> {
  const b = asNodeBuffer(buf);
  if (b.length >= 14 && b.readUInt32LE(0) === MAGIC && b[4] === 1) {
    const hl = b.readUInt32LE(6);
    if (10 + hl <= b.length) {
      const h = JSON.parse(b.toString('utf8', 10, 10 + hl)) as ChunkMeta;
      return { v: 1, type: h.type, date: h.date, unit: h.unit, sources: h.sources, stats: h.stats };
    }
  }
  const { samples: _samples, ...rest } = decodeChunk(b);
  return rest;
}

function parseJsonChunk(b: Buffer): DayChunk {
  const c = JSON.parse(b.toString('utf8')) as DayChunk;
  if (c.v !== 1 || !Array.isArray(c.samples)) throw new Error('decodeChunk: not a day chunk');
  return c;
}

/** Parses what {@link encodeChunk} wrote (or a JSON chunk). Throws on anything malformed. */
export function decodeChunk(buf: Uint8Array): DayChunk {
  const b = asNodeBuffer(buf);
  if (b.length > 0 && b[0] === 0x7b) return parseJsonChunk(b);
  const c = sampleColumns();
  const h = decodeColumns(b, c);
  const samples = new Array<Tuple>(c.n);
  for (let i = 0; i < c.n; i++) samples[i] = [c.start[i]!, c.dur[i]!, c.value[i]!, c.source[i]!];
  return { v: 1, type: h.type, date: h.date, unit: h.unit, sources: h.sources, samples, stats: h.stats };
}

/**
 * Decodes a chunk (binary or JSON) into `into` (grown as needed) and returns its header.
 * Throws on anything malformed.
 */
export function decodeColumns(buf: Uint8Array, into: SampleColumns): ChunkMeta {
  const b = asNodeBuffer(buf);
  if (b.length > 0 && b[0] === 0x7b) {
    const c = parseJsonChunk(b);
    const n = c.samples.length;
    reserveColumns(into, n);
    for (let i = 0; i < n; i++) {
      const r = c.samples[i]!;
      into.start[i] = r[0];
      into.dur[i] = r[1];
      into.value[i] = r[2];
      into.source[i] = r[3];
    }
    into.n = n;
    return { type: c.type, date: c.date, unit: c.unit, sources: c.sources, stats: c.stats };
  }
  if (b.length < 14 || b.readUInt32LE(0) !== MAGIC) throw new Error('decodeChunk: not a day chunk');
  if (b[4] !== 1) throw new Error(`decodeChunk: unsupported version ${b[4]}`);
  const flags = b[5]!;
  const hl = b.readUInt32LE(6);
  if (10 + hl + 4 > b.length) throw new Error('decodeChunk: truncated');
  const h = JSON.parse(b.toString('utf8', 10, 10 + hl)) as ChunkMeta;
  let p = 10 + hl;
  const n = b.readUInt32LE(p);
  p += 4;
  if (n > b.length - p) throw new Error('decodeChunk: truncated');
  const len = b.length;
  const readVarint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (p >= len) throw new Error('decodeChunk: truncated');
      const c = b[p++]!;
      v += (c & 0x7f) * mul;
      if (c < 0x80) return v;
      mul *= 128;
      if (mul > 2 ** 56) throw new Error('decodeChunk: bad varint');
    }
  };
  reserveColumns(into, n);
  into.n = 0;
  const { start, dur, value, source } = into;
  if (flags & F_FLOAT_TIMES) {
    if (p + n * 16 > len) throw new Error('decodeChunk: truncated');
    for (let i = 0; i < n; i++, p += 8) start[i] = b.readDoubleLE(p);
    for (let i = 0; i < n; i++, p += 8) dur[i] = b.readDoubleLE(p);
  } else if (n > 0) {
    if (p + 8 > len) throw new Error('decodeChunk: truncated');
    let t = b.readDoubleLE(p);
    p += 8;
    start[0] = t;
    for (let i = 1; i < n; i++) start[i] = t += readVarint();
    for (let i = 0; i < n; i++) dur[i] = unzig(readVarint());
  }
  if (flags & F_INT_VALUES) {
    const pow = 10 ** (flags >> 2);
    if (pow === 1) for (let i = 0; i < n; i++) value[i] = unzig(readVarint());
    else for (let i = 0; i < n; i++) value[i] = unzig(readVarint()) / pow;
  } else {
    if (p + n * 8 > len) throw new Error('decodeChunk: truncated');
    for (let i = 0; i < n; i++, p += 8) value[i] = b.readDoubleLE(p);
  }
  const ns = h.sources.length;
  for (let i = 0; i < n; i++) {
    const si = readVarint();
    if (si >= ns) throw new Error('decodeChunk: bad source index');
    source[i] = si;
  }
  if (p !== len) throw new Error('decodeChunk: trailing bytes');
  into.n = n;
  return { type: h.type, date: h.date, unit: h.unit, sources: h.sources, stats: h.stats };
}
// ---------------------------------------------------------------------------------------------

/**
 * Groups a stream of samples into day chunks in memory, keyed `${type}\u0000${date}`.
 * `drain(n)` hands back the groups touched longest ago, which for an Apple Health export
 * (records come grouped by type, in time order) are complete. When more samples arrive later
 * for a drained key, a new chunk starts; the store then merges it into the stored one with
 * {@link mergeChunks}, which drops duplicates, so draining early is never wrong, only a little
 * more work. Samples are converted to chunk rows as they arrive, so the caller's sample objects
 * die young (cheap for the garbage collector) instead of living until the drain.
 */
export class SeriesAccumulator {
  private readonly groups = new Map<string, ChunkBuilder>();
  private lastType = '';
  private lastDate = '';
  private last: ChunkBuilder | undefined;
  private pending = 0;
  private nameBytes = 0;

  /** Number of open (type, day) groups. */
  get size(): number {
    return this.groups.size;
  }

  /** Number of samples held in open groups. */
  get sampleCount(): number {
    return this.pending;
  }

  /**
   * Rough heap bytes held by open groups: a sample row is a small array of four numbers (~88
   * bytes with its slot); source names count by length, so a file of huge names flushes early.
   */
  get bytes(): number {
    return this.pending * 88 + this.nameBytes + this.groups.size * 256;
  }

  /** Adds one sample; false when it was left out (see ChunkBuilder.add). */
  add(s: QuantitySample): boolean {
    let g = this.last;
    if (g === undefined || s.type !== this.lastType || s.localDate !== this.lastDate) {
      const key = `${s.type}\u0000${s.localDate}`;
      g = this.groups.get(key);
      if (g === undefined) g = new ChunkBuilder(s.type, s.localDate, s.unit);
      else this.groups.delete(key); // re-insert so Map order is least recently touched first
      this.groups.set(key, g);
      this.last = g;
      this.lastType = s.type;
      this.lastDate = s.localDate;
    }
    const nb = g.nameBytes;
    if (!g.add(s)) return false;
    this.nameBytes += g.nameBytes - nb;
    this.pending++;
    return true;
  }

  /** Adds many samples; answers how many were left out. */
  addMany(samples: readonly QuantitySample[]): number {
    let left = 0;
    for (let i = 0; i < samples.length; i++) if (!this.add(samples[i]!)) left++;
    return left;
  }

  /**
   * Removes and returns up to `maxChunks` chunks, least recently touched first. The group being
   * written to right now stays open; {@link drainAll} takes it too.
   */
  drain(maxChunks: number): DayChunk[] {
    const out: DayChunk[] = [];
    for (const [key, g] of this.groups) {
      if (out.length >= maxChunks) break;
      if (g === this.last) continue;
      this.groups.delete(key);
      this.pending -= g.length;
      this.nameBytes -= g.nameBytes;
      out.push(g.build());
    }
    return out;
  }

  /** Removes and returns every group as a chunk (end of import). */
  drainAll(): DayChunk[] {
    this.last = undefined;
    this.lastType = this.lastDate = '';
    return this.drain(Infinity);
  }
}
