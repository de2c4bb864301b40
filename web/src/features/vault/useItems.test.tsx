import { act, renderHook, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { useItems } from './useItems';

const item = (id: string) => ({
  id,
  kind: 'note',
  source: 'manual',
  type: null,
  title: id,
  text: '',
  tags: [],
  occurredAt: null,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
});
const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });

afterEach(() => vi.unstubAllGlobals());

describe('useItems', () => {
  it('never loads the previous filter’s next page into the new list', async () => {
    const urls: string[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => {
        urls.push(url);
        if (url.includes('tag=journal')) return json({ items: [item('j1')], nextCursor: null });
        if (url.includes('cursor=c1')) return json({ items: [item('a2')], nextCursor: null });
        return json({ items: [item('a1')], nextCursor: 'c1' });
      }),
    );
    const { result, rerender } = renderHook(({ tag }: { tag?: string }) => useItems({ tag }, 1), { initialProps: {} as { tag?: string } });
    await waitFor(() => expect(result.current.items.map((i) => i.id)).toEqual(['a1']));
    // The scroller still holds the unfiltered list's loadMore when the filter changes.
    const staleLoadMore = result.current.loadMore;
    rerender({ tag: 'journal' });
    await waitFor(() => expect(result.current.items.map((i) => i.id)).toEqual(['j1']));
    act(() => staleLoadMore());
    await new Promise((r) => setTimeout(r, 20));
    expect(urls.some((u) => u.includes('cursor=c1'))).toBe(false);
    expect(result.current.items.map((i) => i.id)).toEqual(['j1']);
  });
});
