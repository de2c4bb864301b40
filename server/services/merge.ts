import { diff3Merge, diffComm } from 'node-diff3';

/** Lines with their endings kept, so a merge gives back exactly the text both sides wrote. */
const lines = (text: string): string[] => text.match(/[^\n]*\n|[^\n]+$/g) ?? [];

/**
 * Three-way line merge (diff3): changes from `base` to `mine` and from `base` to `theirs` are
 * combined when they touch different lines; null when they overlap. Identical changes on both
 * sides are not a conflict.
 */
export function mergeText(base: string, mine: string, theirs: string): string | null {
  if (mine === theirs || theirs === base) return mine;
  if (mine === base) return theirs;
  const regions = diff3Merge(lines(mine), lines(base), lines(theirs), { excludeFalseConflicts: true });
  let out = '';
  for (const r of regions) {
    if (r.conflict) return null;
    out += (r.ok ?? []).join('');
  }
  return out;
}

/** A single value both sides may have changed: the change wins, two different changes conflict. */
export function mergeValue<T>(base: T, mine: T, theirs: T, same: (a: T, b: T) => boolean = Object.is): { value: T } | null {
  if (same(mine, theirs) || same(theirs, base)) return { value: mine };
  if (same(mine, base)) return { value: theirs };
  return null;
}

/** Tags as sets: what either side added is in, what either side removed is out. */
export function mergeTags(base: string[], mine: string[], theirs: string[]): string[] {
  const key = (t: string) => t.toLowerCase();
  const b = new Set(base.map(key));
  const m = new Set(mine.map(key));
  const removed = new Set([...b].filter((t) => !m.has(t)));
  const out = new Map<string, string>();
  for (const t of theirs) if (!removed.has(key(t))) out.set(key(t), t);
  for (const t of mine) if (!b.has(key(t))) out.set(key(t), t);
  return [...out.values()];
}

export interface LineChange {
  /** `same`: in both; `removed`: only in the older text; `added`: only in the newer. */
  op: 'same' | 'removed' | 'added';
  lines: string[];
}

/** A line diff from `before` to `after` (history's "compare with current"). */
export function diffLines(before: string, after: string): LineChange[] {
  const out: LineChange[] = [];
  for (const c of diffComm(before.split('\n'), after.split('\n'))) {
    if (c.common) out.push({ op: 'same', lines: c.common });
    else {
      if (c.buffer1.length) out.push({ op: 'removed', lines: c.buffer1 });
      if (c.buffer2.length) out.push({ op: 'added', lines: c.buffer2 });
    }
  }
  return out;
}
