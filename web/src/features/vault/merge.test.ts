import { describe, expect, it } from 'vitest';
import { mergeTags, mergeText } from './merge';

describe('editor merge', () => {
  const base = 'Plan\n- flights\n- hotel\n\nPack\n- passport\n';
  it('keeps both sides when they edit different lines', () => {
    expect(mergeText(base, base.replace('- flights', '- flights at 9:40'), base.replace('- passport', '- passport\n- adapter'))).toBe(
      'Plan\n- flights at 9:40\n- hotel\n\nPack\n- passport\n- adapter\n',
    );
  });
  it('gives up on the same line edited twice', () => {
    expect(mergeText(base, base.replace('hotel', 'hostel'), base.replace('hotel', 'motel'))).toBeNull();
  });
  it('merges tag sets', () => {
    expect(mergeTags(['a', 'b'], ['a', 'c'], ['a', 'b', 'd'])).toEqual(['a', 'd', 'c']);
  });
});
