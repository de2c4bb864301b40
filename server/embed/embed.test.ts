import { describe, expect, it } from 'vitest';
import { compileDotWasm, renderModule } from '../../scripts/build-dot-wasm.js';
import { passages } from './chunk.js';
import { DOT_WASM } from './dot-wasm.js';
import { packVectors, unpackVectors } from './pack.js';
import { quantize } from './quantize.js';
import { fuseRanks } from './rrf.js';
import { VectorIndex } from './vector-index.js';

/** Deterministic pseudo-random vector (xorshift). */
function vector(seed: number, dims: number): number[] {
  let x = seed * 2654435761 || 1;
  return Array.from({ length: dims }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296 - 0.5;
  });
}

const cosine = (a: number[], b: number[]) => {
  let d = 0;
  let na = 0;
  let nb = 0;
  a.forEach((x, i) => {
    d += x * b[i]!;
    na += x * x;
    nb += b[i]! * b[i]!;
  });
  return d / Math.sqrt(na * nb);
};

describe('embedding building blocks', () => {
  it('the committed WebAssembly kernel is dot.wat compiled', async () => {
    expect(renderModule(await compileDotWasm())).toContain(DOT_WASM);
  });

  it('splits pages at form feeds and keeps offsets into the text', () => {
    const text = 'First page.\n\nStill first.\fSecond page here.\f\fFourth.';
    const p = passages(text);
    expect(p.map((x) => x.page)).toEqual([1, 2, 4]);
    expect(p.map((x) => text.slice(x.start, x.end))).toEqual(['First page.\n\nStill first.', 'Second page here.', 'Fourth.']);
    expect(passages('no pages at all').map((x) => x.page)).toEqual([null]);
    const long = passages('word '.repeat(2000));
    expect(long.length).toBeGreaterThan(10);
    expect(long.every((x) => x.end - x.start <= 800)).toBe(true);
  });

  it('packs and unpacks sealed payloads exactly; refuses a truncated one', () => {
    const v = {
      dims: 20,
      chunks: [
        { page: 3, start: 5, end: 90, ...quantize(vector(1, 20)) },
        { page: null, start: 0, end: 4, ...quantize(vector(2, 20)) },
      ],
    };
    const back = unpackVectors(packVectors(v));
    expect(back.dims).toBe(20);
    expect(back.chunks.map((c) => [c.page, c.start, c.end, [...c.q]])).toEqual(v.chunks.map((c) => [c.page, c.start, c.end, [...c.q]]));
    expect(back.chunks[0]!.scale).toBeCloseTo(v.chunks[0]!.scale, 6);
    expect(() => unpackVectors(packVectors(v).subarray(0, 30))).toThrow(/truncated/);
  });

  it('scores like float cosine (int8 error about 1%) and ranks items by their best passage', () => {
    const dims = 100; // not a multiple of 16: rows are zero-padded
    const index = new VectorIndex();
    const raw = Array.from({ length: 50 }, (_, i) => vector(i + 1, dims));
    raw.forEach((v, i) => index.put(`item-${Math.floor(i / 5)}`, { dims, chunks: [{ page: (i % 5) + 1, start: i, end: i + 1, ...quantize(v) }] }));
    // put() replaces: only the last chunk of each item survives.
    expect(index.size).toBe(10);
    const q = vector(999, dims);
    const hits = index.search(q, 3);
    const expected = raw
      .map((v, i) => ({ i, s: cosine(q, v) }))
      .filter(({ i }) => i % 5 === 4)
      .sort((a, b) => b.s - a.s);
    expect(hits.map((h) => h.itemId)).toEqual(expected.slice(0, 3).map(({ i }) => `item-${Math.floor(i / 5)}`));
    hits.forEach((h, k) => expect(h.score).toBeCloseTo(expected[k]!.s, 1));
    expect(hits[0]!.page).toBe(5);
  });

  it('the sign-bit prefilter finds the same nearest items as the exact scan', () => {
    const dims = 64;
    const exact = new VectorIndex(Infinity);
    const fast = new VectorIndex(100);
    for (let i = 0; i < 3000; i++) {
      const chunk = { dims, chunks: [{ page: null, start: 0, end: 1, ...quantize(vector(i + 1, dims)) }] };
      exact.put(`i${i}`, chunk);
      fast.put(`i${i}`, chunk);
    }
    const q = vector(42, dims).map((x, k) => x + 0.1 * vector(7, dims)[k]!);
    expect(fast.search(q, 1)[0]!.itemId).toBe('i41');
    expect(fast.search(q, 5).map((h) => h.itemId)).toEqual(exact.search(q, 5).map((h) => h.itemId));
  });

  it('removing items leaves them out and compaction keeps the rest', () => {
    const dims = 32;
    const index = new VectorIndex();
    for (let i = 0; i < 3000; i++) index.put(`i${i}`, { dims, chunks: [{ page: null, start: 0, end: 1, ...quantize(vector(i + 1, dims)) }] });
    for (let i = 0; i < 2000; i++) index.remove(`i${i}`);
    expect(index.size).toBe(1000);
    const hit = index.search(vector(2500, dims), 1)[0]!;
    expect(hit.itemId).toBe('i2499');
  });

  it('fuses rankings by reciprocal rank', () => {
    const fused = fuseRanks([
      ['a', 'b', 'c'],
      ['c', 'd'],
    ]);
    expect(fused[0]!.id).toBe('c');
    expect(fused.map((f) => f.id).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(fused.find((f) => f.id === 'a')!.score).toBeCloseTo(1 / 61, 10);
  });
});
