import { render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Item } from '../../api/types';
import { RouterProvider } from '../../app/router';
import { ItemPage, shortPath } from './ItemPage';

const ID = '3f0c8a5e-0000-4000-8000-000000000003';
const file = (over: Partial<Item>): Item => ({
  id: ID,
  kind: 'document',
  source: 'upload',
  type: 'application/octet-stream',
  title: 'prog.exe',
  text: '',
  tags: [],
  occurredAt: null,
  createdAt: '2026-01-01T00:39:00Z',
  updatedAt: '2026-01-01T00:39:05Z',
  version: 1,
  folderId: null,
  fileId: '3f0c8a5e-0000-4000-8000-000000000004',
  ...over,
});
const reply = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

afterEach(() => vi.unstubAllGlobals());

function show(id: string, item: (url: string) => Response, folders: Array<{ id: string; name: string; parentId: string | null }> = []) {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => (url.startsWith('/api/folders') ? reply(200, { folders: folders.map((f) => ({ ...f, count: 0 })) }) : item(url))),
  );
  render(
    <RouterProvider>
      <ItemPage id={id} />
    </RouterProvider>,
  );
}

describe('<ItemPage>', () => {
  it('shows where each page of a file’s text starts (pages are form-feed separated)', async () => {
    show(ID, () => reply(200, file({ title: 'scan.txt', text: 'chronic bronchitis. Thank you.\fSecond scanned page mentions gastroenteritis.' })));
    const marks = await screen.findAllByTestId('page-mark');
    expect(marks.map((h) => h.textContent)).toEqual(['Page 1', 'Page 2']);
    expect(marks.map((h) => h.nextElementSibling?.textContent)).toEqual(['chronic bronchitis. Thank you.', 'Second scanned page mentions gastroenteritis.']);
    expect(screen.getByTestId('item-text').textContent).not.toContain('\f');
  });

  it('shows a text without pages as it is', async () => {
    show(ID, () => reply(200, file({ title: 'one.txt', text: 'one page only' })));
    expect((await screen.findByTestId('item-text')).textContent).toBe('one page only');
    expect(screen.queryByTestId('page-mark')).toBeNull();
  });

  it('says an address that is not an item id is not in the vault, in its own words', async () => {
    show('not-a-uuid', () => reply(400, { error: { code: 'invalid_request', message: 'id: must be a valid id' } }));
    expect(await screen.findByText('This item is not in your vault')).toBeTruthy();
    expect(screen.queryByText(/must be a valid id/)).toBeNull();
  });

  it('does not call a file "edited" because its text was read after the upload', async () => {
    show(ID, () => reply(200, file({ extraction: { status: 'none', reason: 'unsupported type' } })));
    expect(await screen.findByText(/^Added/)).toBeTruthy();
    expect(screen.getByText(/^Added/).textContent).not.toMatch(/edited/);
  });

  it('calls a note edited once it has a newer version', async () => {
    show(ID, () => reply(200, file({ kind: 'note', fileId: undefined, version: 2, title: 'Plan' })));
    expect((await screen.findByText(/^Added/)).textContent).toMatch(/edited/);
  });

  it('offers "Read again" only where reading again could help', async () => {
    show(ID, () => reply(200, file({ extraction: { status: 'none', reason: 'unsupported type' } })));
    expect(await screen.findByText(/Search and chat cannot see its contents/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Read again' })).toBeNull();
  });

  it('keeps the "Move to folder" menu to the page width, with long paths shortened', async () => {
    const long = 'L'.repeat(200);
    show(ID, () => reply(200, file({})), [{ id: '3f0c8a5e-0000-4000-8000-000000000005', name: long, parentId: null }]);
    const select = await screen.findByLabelText('Move to folder');
    expect(select.className).toMatch(/max-w-full/);
    const option = await screen.findByRole('option', { name: shortPath(long) });
    expect([...(option.textContent ?? '')].length).toBeLessThanOrEqual(60);
    expect(option.getAttribute('title')).toBe(long);
  });
});
