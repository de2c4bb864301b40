/** A note's editable fields (useNoteDraft re-exports it as its Draft). */
export interface Draft {
  title: string;
  text: string;
  tags: string[];
}

/** An edit that could not be saved because the session ended, with the version it started from. */
export interface KeptDraft {
  draft: Draft;
  base: Draft;
  baseVersion: number;
}

/**
 * Kept in this page's memory only, never in browser storage: vault text must not reach the disk.
 * The sign-in page is a client-side route, so the module (and this map) lives on across it; a
 * reload or a closed tab loses it, as it loses any unsaved typing.
 */
const kept = new Map<string, KeptDraft>();

export function keepDraft(itemId: string, entry: KeptDraft): void {
  kept.set(itemId, entry);
}

export function peekKeptDraft(itemId: string): KeptDraft | undefined {
  return kept.get(itemId);
}

export function dropKeptDraft(itemId: string): void {
  kept.delete(itemId);
}

export function hasKeptDrafts(): boolean {
  return kept.size > 0;
}

/** Forgets every kept edit (a sign-out, another account signing in). */
export function clearKeptDrafts(): void {
  kept.clear();
}
