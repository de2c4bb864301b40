import { diff3Merge, diffComm } from 'node-diff3';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { diffLines, lcsSteps, MAX_LCS_STEPS, mergeTags, mergeText, mergeValue } from './merge.js';

// The LCS calls are watched, to check what work they were handed (not how long it took).
vi.mock('node-diff3', async (importOriginal) => {
  const lib = await importOriginal<typeof import('node-diff3')>();
  return { ...lib, diff3Merge: vi.fn(lib.diff3Merge), diffComm: vi.fn(lib.diffComm) };
});

const base = 'Shopping\n- milk\n- bread\n\nNotes\nCall the dentist on Monday.\nBook flights.\n';

describe('three-way merge', () => {
  it('combines edits to different lines, keeping both', () => {
    const mine = base.replace('- milk', '- oat milk');
    const theirs = base.replace('Book flights.', 'Book flights to Lisbon.');
    expect(mergeText(base, mine, theirs)).toBe(base.replace('- milk', '- oat milk').replace('Book flights.', 'Book flights to Lisbon.'));
  });

  it('keeps an insertion on one side and a deletion on the other', () => {
    const mine = base.replace('- bread\n', '- bread\n- eggs\n');
    const theirs = base.replace('Call the dentist on Monday.\n', '');
    expect(mergeText(base, mine, theirs)).toBe('Shopping\n- milk\n- bread\n- eggs\n\nNotes\nBook flights.\n');
  });

  it('refuses edits to the same line', () => {
    expect(mergeText(base, base.replace('milk', 'oat milk'), base.replace('milk', 'soy milk'))).toBeNull();
  });

  it('treats the same change on both sides as no conflict', () => {
    const both = base.replace('bread', 'rye bread');
    expect(mergeText(base, both, both)).toBe(both);
  });

  it('keeps text without a final newline and CRLF endings intact', () => {
    const b = 'one\r\ntwo\r\nthree';
    expect(mergeText(b, 'ONE\r\ntwo\r\nthree', 'one\r\ntwo\r\nTHREE')).toBe('ONE\r\ntwo\r\nTHREE');
  });

  it('merges single values and tag sets', () => {
    expect(mergeValue('a', 'a', 'b')).toEqual({ value: 'b' });
    expect(mergeValue('a', 'c', 'a')).toEqual({ value: 'c' });
    expect(mergeValue('a', 'c', 'b')).toBeNull();
    expect(mergeTags(['x', 'y'], ['x', 'y', 'new'], ['y', 'Z'])).toEqual(['y', 'Z', 'new']);
  });

  it('diffs lines for the history view', () => {
    expect(diffLines('a\nb\nc', 'a\nB\nc\nd')).toEqual([
      { op: 'same', lines: ['a'] },
      { op: 'removed', lines: ['b'] },
      { op: 'added', lines: ['B'] },
      { op: 'same', lines: ['c'] },
      { op: 'added', lines: ['d'] },
    ]);
  });
});

describe('bounded work on large or repetitive texts', () => {
  beforeEach(() => vi.clearAllMocks());
  /** The LCS work each call was handed: diff3 compares the base (2nd) with each side. */
  const mergeWork = () =>
    vi.mocked(diff3Merge).mock.calls.map((call) => {
      const [a, o, b] = call as unknown as string[][];
      return lcsSteps(o!, a!) + lcsSteps(o!, b!);
    });
  const diffWork = () =>
    vi.mocked(diffComm).mock.calls.map((call) => {
      const [x, y] = call as unknown as string[][];
      return lcsSteps(x!, y!);
    });
  // 10,000 one-digit lines (the probe's note): every line matches a thousand others.
  const digits = Array.from({ length: 10_000 }, (_, i) => String(i % 10));
  const join = (xs: string[]) => xs.join('\n');

  it('answers a conflict without the LCS when the changed region is too costly to compare', () => {
    const base = join(digits);
    const mine = join(digits.map((l, i) => (i % 2 ? `${l}x` : l)));
    const theirs = join([...digits].reverse());
    expect(mergeText(base, mine, theirs)).toBeNull();
    expect(diff3Merge).not.toHaveBeenCalled();
  });

  it('still merges a large text whose edits lie close together, comparing only that region', () => {
    const mine = [...digits];
    mine[5000] = 'mine';
    const theirs = [...digits];
    theirs[5003] = 'theirs';
    theirs.splice(5006, 1);
    const want = [...mine];
    want[5003] = 'theirs';
    want.splice(5006, 1);
    expect(mergeText(join(digits), join(mine), join(theirs))).toBe(join(want));
    expect(mergeWork()).toHaveLength(1);
    expect(mergeWork()[0]).toBeLessThanOrEqual(MAX_LCS_STEPS);
    // Only the region between the common ends went to diff3.
    expect(vi.mocked(diff3Merge).mock.calls[0]![1]).toHaveLength(7);
  });

  it('keeps whole-text results for texts within the bound (trimming the ends could align them differently)', () => {
    // diff3 over the whole text merges this; over the middle alone it would be a conflict.
    expect(mergeText('b\na\nb\na\n', 'b\na\nb\na\na\n', 'b\na\na\n')).toBe('b\na\na\na\n');
    expect(mergeWork()).toEqual([
      lcsSteps(['b\n', 'a\n', 'b\n', 'a\n'], ['b\n', 'a\n', 'b\n', 'a\n', 'a\n']) + lcsSteps(['b\n', 'a\n', 'b\n', 'a\n'], ['b\n', 'a\n', 'a\n']),
    ]);
  });

  it('shows a too costly changed region as one replaced block between the unchanged ends', () => {
    const after = ['start', ...[...digits].reverse(), 'end'];
    expect(diffLines(join(['start', ...digits, 'end']), join(after))).toEqual([
      { op: 'same', lines: ['start'] },
      { op: 'removed', lines: digits },
      { op: 'added', lines: [...digits].reverse() },
      { op: 'same', lines: ['end'] },
    ]);
    expect(diffComm).not.toHaveBeenCalled();
  });

  it('diffs a small edit in a large text line by line, comparing only the changed region', () => {
    const after = [...digits];
    after.splice(4000, 2, 'new');
    expect(diffLines(join(digits), join(after))).toEqual([
      { op: 'same', lines: digits.slice(0, 4000) },
      { op: 'removed', lines: ['0', '1'] },
      { op: 'added', lines: ['new'] },
      { op: 'same', lines: digits.slice(4002) },
    ]);
    expect(diffWork()).toEqual([expect.any(Number)]);
    expect(diffWork()[0]).toBeLessThanOrEqual(MAX_LCS_STEPS);
  });

  it('stays bounded at the largest item size: a million characters of repeated lines', () => {
    const lines = Array.from({ length: 500_000 }, (_, i) => String(i % 10));
    expect(mergeText(join(lines), join(lines.map((l, i) => (i % 2 ? `${l}x` : l))), join([...lines].reverse()))).toBeNull();
    expect(diffLines(join(lines), join([...lines].reverse()))).toHaveLength(2);
    expect(diff3Merge).not.toHaveBeenCalled();
    expect(diffComm).not.toHaveBeenCalled();
  });
});
