/**
 * Merging an incoming day chunk into a stored one, encoded to encoded, through columns that one
 * merger reuses from day to day. What an import does when its days return to days already
 * stored (an export merged with an older one, a second device's run of the same days): decoding
 * such days into a tuple per sample cost ~90 heap bytes a sample, and dozens of full days merged
 * in one transaction left the server's heap ~100 MB of garbage larger for seconds. Here the
 * working set is the largest day merged so far, in bytes ({@link ChunkMerger.bytes}), whatever
 * the number of days.
 */
import {
  columnBytes,
  columnStats,
  decodeColumns,
  encodeColumns,
  encodedBound,
  reserveColumns,
  sampleColumns,
  type ChunkMeta,
  type SampleColumns,
} from './day-chunk.js';
import { convertValue, unitConversion } from './units.js';

/** A merged chunk: its header and encoding (a view into the merger's buffer, valid until its next merge). */
export interface MergedChunk {
  meta: ChunkMeta;
  encoded: Buffer;
  /** Samples in the merged chunk, and how many of them were not in the stored one. */
  count: number;
  added: number;
}

/** The rows of `c` in order (sample order: start, duration, value, source), as `mergeChunks` sorts them. */
function cmp(x: SampleColumns, i: number, y: SampleColumns, j: number): number {
  return x.start[i]! - y.start[j]! || x.dur[i]! - y.dur[j]! || x.value[i]! - y.value[j]! || x.source[i]! - y.source[j]!;
}

function isSorted(c: SampleColumns): boolean {
  for (let i = 1; i < c.n; i++) if (cmp(c, i - 1, c, i) > 0) return false;
  return true;
}

/** Sorts columns in place (stable): only for inputs not already in order, which encodeChunk never writes. */
function sortColumns(c: SampleColumns): void {
  const order = Array.from({ length: c.n }, (_, i) => i).sort((i, j) => cmp(c, i, c, j) || i - j);
  const copy = { start: c.start.slice(0, c.n), dur: c.dur.slice(0, c.n), value: c.value.slice(0, c.n), source: c.source.slice(0, c.n) };
  for (let k = 0; k < c.n; k++) {
    const i = order[k]!;
    c.start[k] = copy.start[i]!;
    c.dur[k] = copy.dur[i]!;
    c.value[k] = copy.value[i]!;
    c.source[k] = copy.source[i]!;
  }
}

/**
 * Merges encoded day chunks with the semantics of `mergeChunks` (the incoming chunk's values
 * converted to the stored unit, its sources appended, exact duplicates kept once, the stored
 * sample first), byte for byte the same encoding. One merger per batch of days; not shared
 * between concurrent callers.
 */
export class ChunkMerger {
  readonly #stored = sampleColumns();
  readonly #incoming = sampleColumns();
  readonly #out = sampleColumns();
  #buf: Buffer = Buffer.alloc(0);

  /** Bytes the merger holds now: its columns and output buffer, sized by the largest day merged. */
  get bytes(): number {
    return columnBytes(this.#stored) + columnBytes(this.#incoming) + columnBytes(this.#out) + this.#buf.length;
  }

  /**
   * `incoming` merged into `stored` (both encoded chunks of the same type and day), or undefined
   * when it adds nothing or its unit does not convert to the stored one (the day then keeps what
   * it has, as the store always did).
   */
  merge(stored: Uint8Array, incoming: Uint8Array): MergedChunk | undefined {
    const a = this.#stored;
    const b = this.#incoming;
    const ma = decodeColumns(stored, a);
    const mb = decodeColumns(incoming, b);
    if (ma.type !== mb.type || ma.date !== mb.date) throw new Error('ChunkMerger: different (type, date)');
    const c = unitConversion(mb.unit, ma.unit, ma.type);
    if (c === undefined) return undefined;
    const sources = ma.sources.slice();
    const remap = mb.sources.map((name) => {
      const i = sources.indexOf(name);
      if (i >= 0) return i;
      sources.push(name);
      return sources.length - 1;
    });
    for (let j = 0; j < b.n; j++) {
      b.value[j] = convertValue(b.value[j]!, c);
      b.source[j] = remap[b.source[j]!]!;
    }
    if (!isSorted(a)) sortColumns(a);
    if (!isSorted(b)) sortColumns(b);
    const out = this.#out;
    reserveColumns(out, a.n + b.n);
    let i = 0;
    let j = 0;
    let w = 0;
    while (i < a.n || j < b.n) {
      const fromA = j >= b.n || (i < a.n && cmp(a, i, b, j) <= 0);
      const src = fromA ? a : b;
      const k = fromA ? i++ : j++;
      if (
        w > 0 &&
        out.start[w - 1] === src.start[k] &&
        out.dur[w - 1] === src.dur[k] &&
        out.value[w - 1] === src.value[k] &&
        out.source[w - 1] === src.source[k]
      )
        continue;
      out.start[w] = src.start[k]!;
      out.dur[w] = src.dur[k]!;
      out.value[w] = src.value[k]!;
      out.source[w] = src.source[k]!;
      w++;
    }
    out.n = w;
    if (w === a.n) return undefined;
    const meta: ChunkMeta = { type: ma.type, date: ma.date, unit: ma.unit, sources, stats: columnStats({ type: ma.type, sources }, out) };
    // The header is small JSON; room for it and the worst case of every sample.
    const need = encodedBound(w, 1024 + Buffer.byteLength(JSON.stringify(sources)) + ma.type.length * 3);
    if (this.#buf.length < need) this.#buf = Buffer.allocUnsafe(Math.max(need, Math.ceil(this.#buf.length * 1.5)));
    return { meta, encoded: encodeColumns(meta, out, this.#buf), count: w, added: w - a.n };
  }
}
