import { diff3Merge } from 'node-diff3';

// The same rules as the server's merge (server/services/merge.ts): the editor merges itself
// because it holds the text both sides started from.

const lines = (text: string): string[] => text.match(/[^\n]*\n|[^\n]+$/g) ?? [];

/** Three-way line merge; null when the two edits touch the same lines. */
export function mergeText(base: string, mine: string, theirs: string): string | null {
  if (mine === theirs || theirs === base) return mine;
  if (mine === base) return theirs;
  let out = '';
  for (const r of diff3Merge(lines(mine), lines(base), lines(theirs), { excludeFalseConflicts: true })) {
    if (r.conflict) return null;
    out += (r.ok ?? []).join('');
  }
  return out;
}

export function mergeValue<T>(base: T, mine: T, theirs: T): { value: T } | null {
  if (mine === theirs || theirs === base) return { value: mine };
  if (mine === base) return { value: theirs };
  return null;
}

/** Tags as sets: additions from either side stay, removals from either side go. */
export function mergeTags(base: string[], mine: string[], theirs: string[]): string[] {
  const b = new Set(base.map((t) => t.toLowerCase()));
  const m = new Set(mine.map((t) => t.toLowerCase()));
  const out = new Map<string, string>();
  for (const t of theirs) if (!(b.has(t.toLowerCase()) && !m.has(t.toLowerCase()))) out.set(t.toLowerCase(), t);
  for (const t of mine) if (!b.has(t.toLowerCase())) out.set(t.toLowerCase(), t);
  return [...out.values()];
}
