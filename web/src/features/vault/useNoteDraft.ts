import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError, onUnauthorized } from '../../api/client';
import type { Item } from '../../api/types';
import { dropKeptDraft, keepDraft, keptDraftsGeneration, onSignOutSave, peekKeptDraft, type Draft, type KeptDraft } from './keptDrafts';
import { mergeTags, mergeText, mergeValue } from './merge';
import { tagProblem, textProblem } from './NoteEditor';

export type { Draft };

export type SaveState = 'saved' | 'unsaved' | 'saving' | 'error';

/** How long typing must pause before an autosave, and how often another session's saves are checked. */
export const AUTOSAVE_MS = 1500;
export const POLL_MS = 3000;

const same = (a: Draft, b: Draft) => a.title === b.title && a.text === b.text && a.tags.join('\n') === b.tags.join('\n');
const draftOf = (i: Item): Draft => ({ title: i.title, text: i.text, tags: i.tags });

/** What the server would refuse before any save is tried; the same checks as `save`. */
const saveProblem = (d: Draft): string | null => (d.title.trim() ? (tagProblem(d.tags) ?? textProblem(d.text)) : 'Give your note a title.');

interface Latest {
  base: Item;
  draft: Draft;
  conflict: Item | null;
}

/**
 * The editor closed (the person went to another page, or chose another note) with an edit the
 * server does not have yet. The edit is kept first, where an ended session's edit is kept, and
 * sent at once; it is let go of only once saved, so a failed send (offline) brings it back when
 * the note is opened again. A save still on its way is waited for, so only what is left is sent.
 */
async function saveOnLeave(itemId: string, inFlight: Promise<unknown>, latest: { current: Latest }): Promise<void> {
  const keep = (): KeptDraft => {
    const { base: b, draft: d } = latest.current;
    const entry = { draft: d, base: draftOf(b), baseVersion: b.version, left: true };
    keepDraft(itemId, entry);
    return entry;
  };
  let entry = keep();
  await inFlight;
  // Opened again meanwhile: that editor took the kept edit over.
  if (peekKeptDraft(itemId) !== entry) return;
  const { base: b, draft: d, conflict: c } = latest.current;
  if (same(d, draftOf(b))) {
    dropKeptDraft(itemId);
    return;
  }
  entry = keep();
  if (c || saveProblem(d)) return;
  try {
    await api.patch<Item>(`/api/items/${itemId}`, { title: d.title.trim(), text: d.text, tags: d.tags, baseVersion: b.version });
    if (peekKeptDraft(itemId) === entry) dropKeptDraft(itemId);
  } catch {
    // Kept: opening the note again puts it back in the editor, merged with anything saved since.
  }
}

/**
 * A note being edited: autosaves after a pause, always with the version it started from; when
 * another session saved first (a 409, or a newer version seen while polling) it merges three-way
 * against that version, and when the edits overlap it hands both sides to the caller to choose.
 */
export function useNoteDraft(item: Item, onSaved: (item: Item) => void) {
  // An edit kept when the session ended: it goes on from the version it started from, so saving
  // it merges with (or asks about) anything saved since, like any other late save.
  const [restored] = useState(() => peekKeptDraft(item.id));
  const [base, setBase] = useState<Item>(() =>
    restored && restored.baseVersion !== item.version ? { ...item, ...restored.base, version: restored.baseVersion } : item,
  );
  const [draft, setDraft] = useState<Draft>(() => restored?.draft ?? draftOf(item));
  const [state, setState] = useState<SaveState>('saved');
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [conflict, setConflict] = useState<Item | null>(null);
  const saving = useRef(false);
  const inFlight = useRef<Promise<unknown>>(Promise.resolve());
  const sessionEnded = useRef(false);
  const latest = useRef<Latest>({ base, draft, conflict });
  latest.current = { base, draft, conflict };
  const dirty = !same(draft, draftOf(base));

  useEffect(() => {
    if (restored) dropKeptDraft(item.id);
  }, [restored, item.id]);

  // The session ended: the app is about to go to the sign-in page, which unmounts this editor.
  useEffect(
    () =>
      onUnauthorized(() => {
        sessionEnded.current = true;
        const { base: b, draft: d } = latest.current;
        if (!same(d, draftOf(b))) keepDraft(b.id, { draft: d, base: draftOf(b), baseVersion: b.version });
      }),
    [],
  );

  // Leaving within the autosave pause, or while the server is unreachable, must not lose the edit.
  useEffect(() => {
    const generation = keptDraftsGeneration();
    return () => {
      // After a sign-out the edit is let go of on purpose; after a 401 it is kept already.
      if (sessionEnded.current || keptDraftsGeneration() !== generation) return;
      if (same(latest.current.draft, draftOf(latest.current.base))) return;
      void saveOnLeave(item.id, inFlight.current, latest);
    };
  }, [item.id]);

  // A reload or a closed tab would lose what the server does not have yet, kept edits included.
  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      // Older browsers show the prompt only when returnValue is set.
      e.returnValue = 'Your changes to this note are not saved yet.';
    };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);

  /** Another session's version arrived: merge our unsaved edits onto it, or ask. */
  const absorb = useCallback(
    (theirs: Item) => {
      const { base: b, draft: d } = latest.current;
      if (theirs.version <= b.version) return;
      if (same(d, draftOf(b))) {
        setBase(theirs);
        setDraft(draftOf(theirs));
        setNotice(`Updated with version ${theirs.version}, saved in another session.`);
        onSaved(theirs);
        return;
      }
      const text = mergeText(b.text, d.text, theirs.text);
      const title = mergeValue(b.title, d.title, theirs.title);
      if (text === null || !title) {
        setConflict(theirs);
        setState('unsaved');
        return;
      }
      setBase(theirs);
      setDraft({ title: title.value, text, tags: mergeTags(b.tags, d.tags, theirs.tags) });
      setNotice(`Merged your edits with version ${theirs.version}, saved in another session.`);
    },
    [onSaved],
  );

  const save = useCallback(async () => {
    const { base: b, draft: d, conflict: c } = latest.current;
    if (saving.current || c || same(d, draftOf(b))) return;
    const problem = saveProblem(d);
    if (problem) {
      setState('error');
      setError(new Error(problem));
      return;
    }
    saving.current = true;
    setState('saving');
    setError(null);
    try {
      const sent = api.patch<Item>(`/api/items/${b.id}`, { title: d.title.trim(), text: d.text, tags: d.tags, baseVersion: b.version });
      inFlight.current = sent.catch(() => undefined);
      const saved = await sent;
      // Set here too, not only by the next render: an editor closed meanwhile sends only what is left.
      const now = latest.current;
      latest.current = { ...now, base: saved, draft: same(now.draft, d) ? draftOf(saved) : now.draft };
      setBase(saved);
      // Typing during the save stays in the draft; only what was sent is now the base.
      setDraft((now) => (same(now, d) ? draftOf(saved) : now));
      setState('saved');
      onSaved(saved);
    } catch (e) {
      const current = (e as ApiError).code === 'version_conflict' ? ((e as ApiError).body as { current?: Item })?.current : undefined;
      if (current) {
        absorb(current);
        setState('unsaved');
      } else {
        setState('error');
        setError(e);
      }
    } finally {
      saving.current = false;
    }
  }, [absorb, onSaved]);

  // Signing out within the autosave pause must not drop the edit: the sign-out waits for this save
  // (after any save still on its way, so only what is left is sent).
  useEffect(
    () =>
      onSignOutSave(async () => {
        while (saving.current) await inFlight.current;
        await save();
      }),
    [save],
  );

  // Autosave after a pause in typing (a merge changes the draft, so it saves the merge too).
  useEffect(() => {
    if (!dirty || conflict) return;
    setState((s) => (s === 'saving' ? s : 'unsaved'));
    const t = setTimeout(() => void save(), AUTOSAVE_MS);
    return () => clearTimeout(t);
  }, [draft, base, dirty, conflict, save]);

  // Another tab or device may save the same note: look for newer versions while editing.
  useEffect(() => {
    const t = setInterval(() => {
      if (saving.current || latest.current.conflict) return;
      api
        .get<Item>(`/api/items/${item.id}`)
        .then((fresh) => {
          if (!saving.current) absorb(fresh);
        })
        .catch(() => undefined);
    }, POLL_MS);
    return () => clearInterval(t);
  }, [item.id, absorb]);

  /** Settles a conflict: keep my draft (saved over theirs) or take theirs. */
  const resolve = useCallback(
    (choice: 'mine' | 'theirs') => {
      const theirs = latest.current.conflict;
      if (!theirs) return;
      setBase(theirs);
      if (choice === 'theirs') setDraft(draftOf(theirs));
      setConflict(null);
      setNotice(choice === 'mine' ? `Kept your version over version ${theirs.version}.` : `Took version ${theirs.version} from the other session.`);
      if (choice === 'theirs') onSaved(theirs);
    },
    [onSaved],
  );

  return {
    base,
    draft,
    setDraft,
    dirty,
    state,
    error,
    notice,
    conflict,
    save,
    resolve,
    restored: restored !== undefined,
    restoredAfterLeaving: restored?.left === true,
  };
}
