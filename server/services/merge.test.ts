import { describe, expect, it } from 'vitest';
import { diffLines, mergeTags, mergeText, mergeValue } from './merge.js';

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
