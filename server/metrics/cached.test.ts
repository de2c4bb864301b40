import { describe, expect, it } from 'vitest';
import { cachedReader } from './cached.js';

describe('cachedReader', () => {
  it('reads once within its time to live, shares a read in flight, and reads again after clear()', async () => {
    let reads = 0;
    const read = cachedReader(async () => ++reads, 3_600_000);
    expect(await Promise.all([read(), read()])).toEqual([1, 1]);
    expect(await read()).toBe(1);
    read.clear();
    expect(await read()).toBe(2);
    expect(reads).toBe(2);
  });

  it('reads every time with no time to live', async () => {
    let reads = 0;
    const read = cachedReader(async () => ++reads, 0);
    await read();
    await read();
    expect(reads).toBe(2);
  });

  it('keeps no failure: the next call reads again', async () => {
    let reads = 0;
    const read = cachedReader(async () => {
      if (++reads === 1) throw new Error('database busy');
      return reads;
    }, 3_600_000);
    await expect(read()).rejects.toThrow('database busy');
    expect(await read()).toBe(2);
  });
});
