/**
 * Reciprocal rank fusion (Cormack et al., 2009): each list adds 1 / (k + rank) for an id, so an
 * item ranked well by either BM25 or the vectors rises without comparing their unlike scores.
 */
export const RRF_K = 60;

export function fuseRanks(lists: ReadonlyArray<readonly string[]>, k = RRF_K): Array<{ id: string; score: number }> {
  const scores = new Map<string, number>();
  for (const list of lists) list.forEach((id, rank) => scores.set(id, (scores.get(id) ?? 0) + 1 / (k + rank + 1)));
  return [...scores].map(([id, score]) => ({ id, score })).sort((a, b) => b.score - a.score);
}
