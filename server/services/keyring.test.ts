import { describe, expect, it, vi } from 'vitest';
import { recordKeys } from '../../crypto/envelope.js';
import { deriveRowKey, randomKey } from '../../crypto/keys.js';
import * as codec from '../codec/index.js';
import { KeyRing, ROW_KEYS_CACHED, ROW_KEYS_CACHED_IN_ALL } from './keyring.js';

const userId = '6f1c1a52-8a6e-4c0e-9d51-5a3f0c7b2e10';
const rowId = (i: number) => `0b7c3e2a-1f4d-4b6a-8c9e-${i.toString(16).padStart(12, '0')}`;
const keeping = () => {
  const ring = new KeyRing(randomKey());
  ring.keepRowKeys();
  return ring;
};

describe('KeyRing row keys', () => {
  it('keeps nothing in a ring the session cache does not hold', () => {
    const ring = new KeyRing(randomKey());
    const derive = vi.fn(() => recordKeys(deriveRowKey(ring.subkey('items'), rowId(1))));
    expect(ring.recordKeys('items', rowId(1), derive)).not.toBe(ring.recordKeys('items', rowId(1), derive));
    expect(derive).toHaveBeenCalledTimes(2);
  });

  it('derives a row’s record keys once and hands back the same ones after', () => {
    const ring = keeping();
    const derive = vi.fn(() => recordKeys(deriveRowKey(ring.subkey('items'), rowId(1))));
    const first = ring.recordKeys('items', rowId(1), derive);
    expect(ring.recordKeys('items', rowId(1), derive)).toBe(first);
    expect(derive).toHaveBeenCalledTimes(1);
    // Another purpose with the same id is another row key.
    const tags = ring.recordKeys('tags', rowId(1), () => recordKeys(deriveRowKey(ring.subkey('tags'), rowId(1))));
    expect(tags.encKey.equals(first.encKey)).toBe(false);
  });

  it('keeps at most ROW_KEYS_CACHED rows, dropping and wiping the least recently used', () => {
    const ring = keeping();
    const derive = (i: number) => vi.fn(() => recordKeys(deriveRowKey(ring.subkey('items'), rowId(i))));
    const oldest = ring.recordKeys('items', rowId(0), derive(0));
    const kept = ring.recordKeys('items', rowId(1), derive(1));
    for (let i = 2; i < ROW_KEYS_CACHED; i++) ring.recordKeys('items', rowId(i), derive(i));
    // Row 1 was used again, so row 0 is the one the next new row pushes out.
    ring.recordKeys('items', rowId(1), derive(1));
    ring.recordKeys('items', rowId(ROW_KEYS_CACHED), derive(ROW_KEYS_CACHED));
    expect(oldest.encKey.every((b) => b === 0) && oldest.commitKey.every((b) => b === 0)).toBe(true);
    const again = derive(1);
    expect(ring.recordKeys('items', rowId(1), again)).toBe(kept);
    expect(again).not.toHaveBeenCalled();
    const rederived = derive(0);
    ring.recordKeys('items', rowId(0), rederived);
    expect(rederived).toHaveBeenCalledTimes(1);
    ring.dropRowKeys();
  });

  it('keeps at most ROW_KEYS_CACHED_IN_ALL rows over all rings', () => {
    const key = recordKeys(randomKey());
    const copy = () => ({ encKey: Buffer.from(key.encKey), commitKey: Buffer.from(key.commitKey) });
    const rings = Array.from({ length: ROW_KEYS_CACHED_IN_ALL / ROW_KEYS_CACHED }, keeping);
    for (const ring of rings) for (let i = 0; i < ROW_KEYS_CACHED; i++) ring.recordKeys('items', rowId(i), copy);
    // Every ring is full and so is the whole: a new ring keeps nothing.
    const late = keeping();
    const derive = vi.fn(copy);
    late.recordKeys('items', rowId(1), derive);
    late.recordKeys('items', rowId(1), derive);
    expect(derive).toHaveBeenCalledTimes(2);
    // One ring dropped makes room again.
    rings[0]!.dropRowKeys();
    late.recordKeys('items', rowId(1), derive);
    late.recordKeys('items', rowId(1), derive);
    expect(derive).toHaveBeenCalledTimes(3);
    for (const ring of [...rings, late]) ring.dropRowKeys();
  });

  it('wipes the kept keys on drop; rows still open afterwards, with keys derived again', () => {
    const ring = keeping();
    const row = { userId, id: rowId(7), version: 2 };
    const sealed = codec.item.seal(ring, row, { title: 't', text: 'x', tags: [] });
    const held = ring.recordKeys('items', rowId(7), () => {
      throw new Error('sealing should have kept the row keys');
    });
    ring.dropRowKeys();
    expect(held.encKey.every((b) => b === 0)).toBe(true);
    expect(codec.item.open(ring, row, sealed)).toEqual({ title: 't', text: 'x', tags: [] });
    // The same row opens with a plain key source that keeps nothing.
    expect(codec.item.open({ subkey: (p) => ring.subkey(p) }, row, sealed)).toEqual({ title: 't', text: 'x', tags: [] });
  });
});
