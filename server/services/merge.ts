import { diff3Merge, diffComm } from 'node-diff3';

/** Lines with their endings kept, so a merge gives back exactly the text both sides wrote. */
const lines = (text: string): string[] => text.match(/[^\n]*\n|[^\n]+$/g) ?? [];

/**
 * node-diff3's LCS (Hunt–McIlroy with a linear candidate scan) does up to about one step per
 * matching line pair times the shorter side: lines that repeat (blank lines, "- ", digits) make
 * it cubic, and it runs on the event loop. 1,000 identical lines against 1,000 took a second;
 * 10,000 one-digit lines, minutes. Comparisons estimated above this many steps (1–2 ns each
 * measured: some tens of milliseconds at most) are answered without the LCS.
 */
export const MAX_LCS_STEPS = 20_000_000;

/**
 * Upper estimate of the LCS's steps for two line lists: matching line pairs × the shorter length.
 * Counting stops once past `limit` (the answer is then only known to exceed it), so a huge
 * input costs one pass to count its lines and little more.
 */
export function lcsSteps(x: readonly string[], y: readonly string[], limit = Infinity): number {
  const shorter = Math.min(x.length, y.length);
  const counts = new Map<string, number>();
  for (const line of y) counts.set(line, (counts.get(line) ?? 0) + 1);
  let steps = 0;
  for (const line of x) {
    steps += (counts.get(line) ?? 0) * shorter;
    if (steps > limit) break;
  }
  return steps;
}

/** Lines equal in every list at the start (`head`) and, not overlapping those, at the end (`tail`). */
function commonEnds(seqs: string[][]): { head: number; tail: number } {
  const shortest = Math.min(...seqs.map((s) => s.length));
  const [first, ...rest] = seqs as [string[], ...string[][]];
  let head = 0;
  while (head < shortest && rest.every((s) => s[head] === first[head])) head++;
  let tail = 0;
  while (tail < shortest - head && rest.every((s) => s[s.length - 1 - tail] === first[first.length - 1 - tail])) tail++;
  return { head, tail };
}

/**
 * Three-way line merge (diff3): changes from `base` to `mine` and from `base` to `theirs` are
 * combined when they touch different lines; null when they overlap. Identical changes on both
 * sides are not a conflict. Also null when the region between the lines all three share at both
 * ends is too costly to compare (MAX_LCS_STEPS): the caller answers a conflict with the current
 * version and the person merges side by side.
 */
export function mergeText(base: string, mine: string, theirs: string): string | null {
  if (mine === theirs || theirs === base) return mine;
  if (mine === base) return theirs;
  let [o, a, b] = [lines(base), lines(mine), lines(theirs)];
  // diff3 runs two LCS: base against mine and base against theirs.
  const fits = () => {
    const first = lcsSteps(o, a, MAX_LCS_STEPS);
    return first <= MAX_LCS_STEPS && lcsSteps(o, b, MAX_LCS_STEPS - first) <= MAX_LCS_STEPS - first;
  };
  let head: string[] = [];
  let tail: string[] = [];
  // Small texts go through diff3 whole, exactly as before; larger ones only with the lines all
  // three share at both ends set aside (the usual edit touches a small region).
  if (!fits()) {
    const ends = commonEnds([o, a, b]);
    head = o.slice(0, ends.head);
    tail = o.slice(o.length - ends.tail);
    [o, a, b] = [o, a, b].map((s) => s.slice(ends.head, s.length - ends.tail)) as [string[], string[], string[]];
    if (!fits()) return null;
  }
  const regions = diff3Merge(a, o, b, { excludeFalseConflicts: true });
  let out = head.join('');
  for (const r of regions) {
    if (r.conflict) return null;
    out += (r.ok ?? []).join('');
  }
  return out + tail.join('');
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

/**
 * A line diff from `before` to `after` (history's "compare with current"). When the changed
 * region is too costly to compare (MAX_LCS_STEPS), it is shown as one replaced block between
 * the unchanged lines at both ends.
 */
export function diffLines(before: string, after: string): LineChange[] {
  const [x, y] = [before.split('\n'), after.split('\n')];
  // Small texts are compared whole, exactly as before; larger ones without their common ends.
  if (lcsSteps(x, y, MAX_LCS_STEPS) <= MAX_LCS_STEPS) return comm(x, y);
  const { head, tail } = commonEnds([x, y]);
  const [mx, my] = [x.slice(head, x.length - tail), y.slice(head, y.length - tail)];
  const middle: LineChange[] =
    lcsSteps(mx, my, MAX_LCS_STEPS) <= MAX_LCS_STEPS
      ? comm(mx, my)
      : [
          { op: 'removed', lines: mx },
          { op: 'added', lines: my },
        ];
  const out: LineChange[] = [];
  for (const c of [{ op: 'same' as const, lines: x.slice(0, head) }, ...middle, { op: 'same' as const, lines: x.slice(x.length - tail) }]) {
    if (c.lines.length) out.push(c);
  }
  return out;
}

function comm(x: string[], y: string[]): LineChange[] {
  const out: LineChange[] = [];
  for (const c of diffComm(x, y)) {
    if (c.common) out.push({ op: 'same', lines: c.common });
    else {
      if (c.buffer1.length) out.push({ op: 'removed', lines: c.buffer1 });
      if (c.buffer2.length) out.push({ op: 'added', lines: c.buffer2 });
    }
  }
  return out;
}
