import type { ItemVectors } from './pack.js';
import { DOT_WASM } from './dot-wasm.js';
import { quantize } from './quantize.js';

/** A passage that matched a query vector. */
export interface VectorHit {
  itemId: string;
  page: number | null;
  start: number;
  end: number;
  score: number;
}

/**
 * One owner's opened vectors: int8 rows in one contiguous buffer with a float scale each, searched
 * by brute-force dot product (exact, and fast enough at 100k passages). Items are replaced or
 * removed in place, so the sweep keeps a warm index current without reopening everything.
 */
const QUERY_AT = 0;
const OUT_AT = 32_768;
/** Rows scored per call: the output area holds this many i32. */
const BLOCK = 8_192;
const ROWS_AT = 65_536;
const PAGE = 65_536;
const MAX_DIMS = 4_096;
/**
 * Up to this many passages every query scores every int8 row. Above it, a first pass compares
 * sign bits (1 bit per dimension: 1/8 of the bytes to read) and only the {@link CANDIDATES}
 * nearest rows are scored exactly: the usual binary-quantization-then-rescore scheme, which keeps
 * memory bandwidth, not arithmetic, from setting the latency at 100k passages.
 */
export const EXACT_ROWS = 32_768;
const CANDIDATES = 4_096;

/** The part of the WebAssembly API used here (the project's TypeScript libs do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
let compiled: object | undefined;
const dotModule = () => (compiled ??= new wasm.Module(Buffer.from(DOT_WASM, 'base64')));

type Kernel = (q: number, base: number, n: number, d: number, out: number) => void;

/** One instance of dot.wat with its own growable memory. */
class Arena {
  readonly memory: WasmMemory;
  readonly dots: Kernel;
  readonly hamming: Kernel;
  constructor() {
    const instance = new wasm.Instance(dotModule(), {});
    this.memory = instance.exports.memory as WasmMemory;
    this.dots = instance.exports.dots as Kernel;
    this.hamming = instance.exports.hamming as Kernel;
    this.memory.grow(1);
  }
  ensure(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
  }
}

/**
 * One owner's opened vectors: int8 rows (zero-padded to a multiple of 16) and their sign bits in
 * WebAssembly memories, a float scale each, scored by SIMD dot products (dot.wat). Items are
 * replaced or removed in place, so the sweep keeps a warm index current without reopening it.
 */
export class VectorIndex {
  #dims = 0;
  /** Row stride: dims rounded up to 16 bytes. */
  #stride = 0;
  /** Sign-bit row length in 64-bit words. */
  #words = 0;
  #size = 0;
  #cap = 0;
  readonly #rows = new Arena();
  readonly #bits = new Arena();
  #scale = new Float32Array(0);
  #item = new Int32Array(0);
  #page = new Uint16Array(0);
  #start = new Uint32Array(0);
  #end = new Uint32Array(0);
  readonly #ids: string[] = [];
  readonly #slot = new Map<string, number>();
  #dead = 0;

  constructor(
    /** Up to this many rows a query scans every int8 row (the bench sets it to compare). */
    private readonly exactRows = EXACT_ROWS,
  ) {}

  /** Live passages. */
  get size(): number {
    return this.#size - this.#dead;
  }

  get dims(): number {
    return this.#dims;
  }

  /** Bytes held: both WebAssembly memories plus the per-row arrays (the bench's memory per 100k passages). */
  get bytes(): number {
    return (
      this.#rows.memory.buffer.byteLength +
      this.#bits.memory.buffer.byteLength +
      this.#scale.byteLength +
      this.#item.byteLength +
      this.#page.byteLength +
      this.#start.byteLength +
      this.#end.byteLength
    );
  }

  /** Sets an item's passages (replacing earlier ones); vectors of another width are ignored. */
  put(itemId: string, v: ItemVectors): void {
    this.remove(itemId);
    if (v.chunks.length === 0 || v.dims === 0 || v.dims > MAX_DIMS) return;
    if (this.#dims === 0) {
      this.#dims = v.dims;
      this.#stride = Math.ceil(v.dims / 16) * 16;
      this.#words = Math.ceil(v.dims / 64);
    }
    if (v.dims !== this.#dims) return;
    let slot = this.#slot.get(itemId);
    if (slot === undefined) {
      slot = this.#ids.length;
      this.#ids.push(itemId);
      this.#slot.set(itemId, slot);
    }
    this.#grow(this.#size + v.chunks.length);
    const rows = new Int8Array(this.#rows.memory.buffer);
    const bits = new Uint8Array(this.#bits.memory.buffer);
    for (const c of v.chunks) {
      const r = this.#size++;
      rows.set(c.q, ROWS_AT + r * this.#stride);
      writeSigns(c.q, bits, ROWS_AT + r * this.#words * 8, this.#words * 8);
      this.#scale[r] = c.scale;
      this.#item[r] = slot;
      this.#page[r] = c.page ?? 0;
      this.#start[r] = c.start;
      this.#end[r] = c.end;
    }
  }

  remove(itemId: string): void {
    const slot = this.#slot.get(itemId);
    if (slot === undefined) return;
    for (let r = 0; r < this.#size; r++) {
      if (this.#item[r] === slot) {
        this.#item[r] = -1;
        this.#dead++;
      }
    }
    if (this.#dead > 1024 && this.#dead * 4 > this.#size) this.#compact();
  }

  /**
   * The best passage of each of the `k` best items for a query vector (normalized and quantized
   * here). Items rank by their best passage, as a reader judges a document by its best part.
   */
  search(query: ArrayLike<number>, k: number, allow?: (itemId: string) => boolean): VectorHit[] {
    if (this.#size === 0 || query.length !== this.#dims) return [];
    const { scale: qs, q } = quantize(query);
    const mem = this.#rows.memory.buffer;
    new Int8Array(mem, QUERY_AT, this.#stride).fill(0).set(q);
    const best = new Float32Array(this.#ids.length).fill(-Infinity);
    const bestRow = new Int32Array(this.#ids.length).fill(-1);
    const out = new Int32Array(mem, OUT_AT, BLOCK);
    const scale = this.#scale;
    const item = this.#item;
    const stride = this.#stride;
    const consider = (r: number, dot: number) => {
      const slot = item[r]!;
      if (slot < 0) return;
      const score = dot * scale[r]!;
      if (score > best[slot]!) {
        best[slot] = score;
        bestRow[slot] = r;
      }
    };
    if (this.#size <= this.exactRows) {
      for (let from = 0; from < this.#size; from += BLOCK) {
        const n = Math.min(BLOCK, this.#size - from);
        this.#rows.dots(QUERY_AT, ROWS_AT + from * stride, n, stride, OUT_AT);
        for (let j = 0; j < n; j++) consider(from + j, out[j]!);
      }
    } else {
      for (const r of this.#candidates(q)) {
        this.#rows.dots(QUERY_AT, ROWS_AT + r * stride, 1, stride, OUT_AT);
        consider(r, out[0]!);
      }
    }
    const hits: VectorHit[] = [];
    for (let slot = 0; slot < best.length; slot++) {
      const r = bestRow[slot]!;
      if (r < 0) continue;
      const itemId = this.#ids[slot]!;
      if (allow && !allow(itemId)) continue;
      hits.push({ itemId, page: this.#page[r] || null, start: this.#start[r]!, end: this.#end[r]!, score: best[slot]! * qs });
    }
    return hits.sort((a, b) => b.score - a.score).slice(0, k);
  }

  /** Rows whose sign bits are nearest the query's (Hamming distance), about {@link CANDIDATES} of them. */
  #candidates(q: Int8Array): Int32Array {
    const bytes = this.#words * 8;
    const mem = this.#bits.memory.buffer;
    writeSigns(q, new Uint8Array(mem), QUERY_AT, bytes);
    const dist = new Uint16Array(this.#size);
    const out = new Int32Array(mem, OUT_AT, BLOCK);
    for (let from = 0; from < this.#size; from += BLOCK) {
      const n = Math.min(BLOCK, this.#size - from);
      this.#bits.hamming(QUERY_AT, ROWS_AT + from * bytes, n, this.#words, OUT_AT);
      for (let j = 0; j < n; j++) dist[from + j] = this.#item[from + j]! < 0 ? 65_535 : out[j]!;
    }
    // A counting pass finds the distance below which about CANDIDATES rows lie: O(n), no sort.
    const hist = new Uint32Array(this.#words * 64 + 1);
    for (let r = 0; r < this.#size; r++) if (dist[r]! !== 65_535) hist[dist[r]!]!++;
    let limit = 0;
    for (let seen = 0; limit < hist.length && seen + hist[limit]! <= CANDIDATES; limit++) seen += hist[limit]!;
    const picked = new Int32Array(CANDIDATES);
    let n = 0;
    for (let r = 0; r < this.#size && n < CANDIDATES; r++) if (dist[r]! <= limit) picked[n++] = r;
    return picked.subarray(0, n);
  }

  #grow(rows: number): void {
    if (rows <= this.#cap) return;
    const cap = Math.max(rows, Math.ceil(this.#cap * 1.5), 256);
    this.#rows.ensure(ROWS_AT + cap * this.#stride);
    this.#bits.ensure(ROWS_AT + cap * this.#words * 8);
    const grow = <T extends Float32Array | Int32Array | Uint16Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a as never);
      return b;
    };
    this.#scale = grow(this.#scale, (n) => new Float32Array(n));
    this.#item = grow(this.#item, (n) => new Int32Array(n));
    this.#page = grow(this.#page, (n) => new Uint16Array(n));
    this.#start = grow(this.#start, (n) => new Uint32Array(n));
    this.#end = grow(this.#end, (n) => new Uint32Array(n));
    this.#cap = cap;
  }

  #compact(): void {
    const d = this.#stride;
    const b = this.#words * 8;
    const rows = new Int8Array(this.#rows.memory.buffer);
    const bits = new Uint8Array(this.#bits.memory.buffer);
    let w = 0;
    for (let r = 0; r < this.#size; r++) {
      if (this.#item[r]! < 0) continue;
      if (w !== r) {
        rows.copyWithin(ROWS_AT + w * d, ROWS_AT + r * d, ROWS_AT + (r + 1) * d);
        bits.copyWithin(ROWS_AT + w * b, ROWS_AT + r * b, ROWS_AT + (r + 1) * b);
        this.#scale[w] = this.#scale[r]!;
        this.#item[w] = this.#item[r]!;
        this.#page[w] = this.#page[r]!;
        this.#start[w] = this.#start[r]!;
        this.#end[w] = this.#end[r]!;
      }
      w++;
    }
    this.#size = w;
    this.#dead = 0;
  }
}

/** Bit i of the row is set when component i is positive (the row's half-space signature). */
function writeSigns(q: Int8Array, into: Uint8Array, at: number, bytes: number): void {
  into.fill(0, at, at + bytes);
  for (let i = 0; i < q.length; i++) if (q[i]! > 0) into[at + (i >> 3)]! |= 1 << (i & 7);
}
