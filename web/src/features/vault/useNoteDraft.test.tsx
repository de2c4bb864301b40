import { act, renderHook, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Item } from '../../api/types';
import { useNoteDraft } from './useNoteDraft';

const note = (version: number, text: string, title = 'Plan'): Item => ({
  id: '3f0c8a5e-0000-4000-8000-000000000001',
  kind: 'note',
  source: 'manual',
  type: '',
  title,
  text,
  tags: ['trip'],
  occurredAt: null,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  version,
  folderId: null,
});
const reply = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const base = 'flights\nhotel\n\npassport\ncharger\n';

afterEach(() => vi.unstubAllGlobals());

describe('useNoteDraft', () => {
  it('on a 409 merges its edit with the newer version and saves the merge on top of it', async () => {
    const theirs = note(2, base.replace('flights', 'flights 9:40'));
    const sent: Array<Record<string, unknown>> = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (_url: string, init?: RequestInit) => {
        if (init?.method !== 'PATCH') return reply(200, theirs);
        const body = JSON.parse(String(init.body)) as Record<string, unknown>;
        sent.push(body);
        if (body.baseVersion === 1) return reply(409, { error: { code: 'version_conflict', message: 'saved elsewhere' }, current: theirs });
        return reply(200, note(3, String(body.text)));
      }),
    );
    const onSaved = vi.fn();
    const { result } = renderHook(() => useNoteDraft(note(1, base), onSaved));
    act(() => result.current.setDraft((d) => ({ ...d, text: base.replace('charger', 'charger\nadapter') })));
    await act(() => result.current.save());
    expect(result.current.notice).toMatch(/Merged your edits with version 2/);
    expect(result.current.draft.text).toBe('flights 9:40\nhotel\n\npassport\ncharger\nadapter\n');
    await act(() => result.current.save());
    await waitFor(() => expect(result.current.base.version).toBe(3));
    expect(sent.map((s) => s.baseVersion)).toEqual([1, 2]);
    expect(result.current.state).toBe('saved');
    expect(onSaved).toHaveBeenLastCalledWith(expect.objectContaining({ version: 3 }));
  });

  it('hands overlapping edits to the person instead of merging', async () => {
    const theirs = note(2, base.replace('hotel', 'motel'));
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => reply(409, { error: { code: 'version_conflict', message: 'saved elsewhere' }, current: theirs })),
    );
    const { result } = renderHook(() => useNoteDraft(note(1, base), () => undefined));
    act(() => result.current.setDraft((d) => ({ ...d, text: base.replace('hotel', 'hostel') })));
    await act(() => result.current.save());
    expect(result.current.conflict?.version).toBe(2);
    act(() => result.current.resolve('theirs'));
    expect(result.current.draft.text).toBe(theirs.text);
    expect(result.current.dirty).toBe(false);
  });
});
