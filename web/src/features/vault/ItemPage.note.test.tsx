import { fireEvent, render, screen, within } from '@testing-library/react';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Item } from '../../api/types';
import { RouterProvider } from '../../app/router';
import { ItemPage } from './ItemPage';

const ID = '3f0c8a5e-0000-4000-8000-000000000010';
const TEXT = '# Heading\n\nSome **bold** words.\n\n- one\n- two\n\n<script>alert(1)</script>';
const base = (over: Partial<Item>): Item => ({
  id: ID,
  kind: 'note',
  source: 'manual',
  type: null,
  title: 'My note',
  text: TEXT,
  tags: [],
  occurredAt: null,
  createdAt: '2026-01-01T00:39:00Z',
  updatedAt: '2026-01-01T00:39:05Z',
  version: 1,
  folderId: null,
  ...over,
});
const reply = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

afterEach(() => vi.unstubAllGlobals());

function show(item: Item) {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => (url.startsWith('/api/folders') ? reply(200, { folders: [] }) : reply(200, item))),
  );
  render(
    <RouterProvider>
      <ItemPage id={ID} />
    </RouterProvider>,
  );
}

describe('a note on its page', () => {
  it('is rendered from Markdown, as the editor previews it, with no raw HTML', async () => {
    show(base({}));
    const content = await screen.findByRole('region', { name: 'Content' });
    expect(within(content).getByRole('heading', { name: 'Heading' })).toBeTruthy();
    expect(content.querySelector('strong')?.textContent).toBe('bold');
    expect(
      within(content)
        .getAllByRole('listitem')
        .map((li) => li.textContent),
    ).toEqual(['one', 'two']);
    expect(content.textContent).not.toContain('**');
    expect(content.textContent).not.toContain('# Heading');
    expect(content.querySelector('script')).toBeNull();
  });

  it('leaves a document’s text as it is', async () => {
    show(base({ kind: 'document', source: 'upload', type: 'text/plain' }));
    const content = await screen.findByRole('region', { name: 'Content' });
    expect(content.textContent).toContain('# Heading');
    expect(content.textContent).toContain('**bold**');
    expect(within(content).queryByRole('heading')).toBeNull();
  });
});

describe('the editor tabs in dark mode', () => {
  it('the selected tab is not white text on a stone shade the dark theme turns light', async () => {
    show(base({}));
    fireEvent.click(await screen.findByRole('button', { name: 'Edit' }));
    const preview = await screen.findByRole('tab', { name: 'Preview' });
    fireEvent.click(preview);
    expect(preview.getAttribute('aria-selected')).toBe('true');
    const classes = preview.className.split(/\s+/);
    const darkCss = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../theme-dark.css'), 'utf8');
    // Stone shades that theme-dark.css remaps to a light colour (lightness over 60 %).
    const light = [...darkCss.matchAll(/--color-stone-(\d+):\s*oklch\(([\d.]+)%/g)].filter((m) => Number(m[2]) > 60).map((m) => `bg-stone-${m[1]}`);
    expect(light.length).toBeGreaterThan(0);
    if (classes.includes('text-white')) expect(classes.filter((c) => light.includes(c))).toEqual([]);
    expect(classes.some((c) => c.startsWith('bg-'))).toBe(true);
  });
});
