/** A note's editable fields (useNoteDraft re-exports it as its Draft). */
export interface Draft {
  title: string;
  text: string;
  tags: string[];
}

/**
 * An edit not saved yet when its editor closed, with the version it started from: the session
 * ended, or the person left the note before the server had it (offline, or within the autosave pause).
 */
export interface KeptDraft {
  draft: Draft;
  base: Draft;
  baseVersion: number;
  /** The person left the note (offline, or within the autosave pause); otherwise the session ended. */
  left?: boolean;
}

/**
 * Kept in this page's memory only, never in browser storage: vault text must not reach the disk.
 * The sign-in page is a client-side route, so the module (and this map) lives on across it; a
 * reload or a closed tab loses it, as it loses any unsaved typing.
 */
const kept = new Map<string, KeptDraft>();
let generation = 0;

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
  generation += 1;
}

/** Changes at every clearKeptDrafts, so an editor closing after a sign-out keeps nothing for the next account. */
export function keptDraftsGeneration(): number {
  return generation;
}

/** Saves an open editor's edit the server does not have yet; registered while a note is edited. */
type PendingSave = () => Promise<void>;
const pendingSaves = new Set<PendingSave>();

/** Registers an open editor, so a sign-out saves its edit before the session ends; returns the unregister. */
export function onSignOutSave(save: PendingSave): () => void {
  pendingSaves.add(save);
  return () => {
    pendingSaves.delete(save);
  };
}

/**
 * Saves every open editor's pending edit (typed within the autosave pause) before a sign-out,
 * which lets go of kept edits on purpose and would otherwise drop it. A failed save does not
 * stop the sign-out: it is reported by the editor as any failed save is.
 */
export async function savePendingEdits(): Promise<void> {
  await Promise.all([...pendingSaves].map((save) => save().catch(() => undefined)));
}
