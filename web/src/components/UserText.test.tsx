import { fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Item } from '../api/types';
import { RouterProvider } from '../app/router';
import { ChatHeader } from '../features/chat/AnswerTools';
import { ChatPage } from '../features/chat/ChatPage';
import { LabList } from '../features/health/LabList';
import { ApiTokens } from '../features/settings/ApiTokens';
import ConnectionsPage from '../features/settings/ConnectionsPage';
import { Breadcrumbs, FolderTree } from '../features/vault/FolderTree';
import { ItemPage } from '../features/vault/ItemPage';
import { ItemRow } from '../features/vault/ItemRow';
import { TrashList } from '../features/vault/TrashList';
import type { FoldersApi } from '../features/vault/useFolders';

/** A title as old rows hold it: U+202E (right-to-left override) reverses what follows it unless it is isolated. */
const SPOOF = 'abc\u202Edef';
const ID = '3f0c8a5e-0000-4000-8000-000000000009';

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const item: Item = {
  id: ID,
  kind: 'note',
  source: 'manual',
  type: '',
  title: SPOOF,
  text: 'body',
  tags: [SPOOF],
  occurredAt: null,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  version: 1,
  folderId: null,
};

/** Every text node holding the spoofed text, each of which must sit alone in an isolating element. */
function expectEveryOccurrenceIsolated(root: ParentNode = document.body): void {
  const holders = [...root.querySelectorAll('*')].filter((el) =>
    [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent?.includes(SPOOF)),
  );
  expect(holders.length).toBeGreaterThan(0);
  for (const el of holders) {
    expect(el.textContent).toBe(SPOOF);
    expect(el.tagName === 'BDI' || el.getAttribute('dir') === 'auto', `${el.outerHTML} isolates its text`).toBe(true);
  }
}

beforeEach(() => {
  Element.prototype.scrollIntoView = vi.fn();
});
afterEach(() => vi.unstubAllGlobals());

describe('user-written titles and names are isolated from the interface around them', () => {
  it('in the item list (title and tags)', () => {
    render(
      <RouterProvider>
        <ItemRow item={item} />
      </RouterProvider>,
    );
    expect(screen.getByTestId('item-title').tagName).toBe('BDI');
    expect(screen.getByTestId('item-title').textContent).toBe(SPOOF);
    expectEveryOccurrenceIsolated();
  });

  it('in the item view’s heading', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => (url.startsWith('/api/folders') ? json(200, { folders: [] }) : json(200, item))),
    );
    render(
      <RouterProvider>
        <ItemPage id={ID} />
      </RouterProvider>,
    );
    const heading = await screen.findByRole('heading', { level: 1, name: SPOOF });
    expectEveryOccurrenceIsolated(heading);
  });

  it('in the chat list', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => {
        if (url === '/health/ollama') return json(200, { status: 'ok', runtime: 'url' });
        if (url.startsWith('/api/chats')) return json(200, { chats: [{ id: 'c1', title: SPOOF, updatedAt: '2026-01-01T00:00:00Z' }] });
        return json(404, { error: { code: 'not_found', message: 'Not found' } });
      }),
    );
    window.history.replaceState(null, '', '/chat');
    render(
      <RouterProvider>
        <ChatPage chatId={null} />
      </RouterProvider>,
    );
    const list = await screen.findByRole('complementary', { name: 'Conversations' });
    await within(list).findByText(SPOOF);
    expectEveryOccurrenceIsolated(list);

    fireEvent.click(within(list).getByRole('button', { name: `Delete conversation ${SPOOF}` }));
    expectEveryOccurrenceIsolated(await screen.findByRole('dialog'));
  });

  it('in the chat header', () => {
    render(<ChatHeader chatId="c1" title={SPOOF} onRenamed={() => undefined} />);
    expectEveryOccurrenceIsolated(screen.getByRole('heading', { level: 1 }));
  });

  it('in the folder tree and its delete dialog', async () => {
    const api = {
      folders: [{ id: 'f1', name: SPOOF, parentId: null, count: 2 }],
      error: null,
      reload: vi.fn(),
      trail: () => [],
      pathOf: () => '',
      create: vi.fn(async () => undefined),
      rename: vi.fn(async () => undefined),
      remove: vi.fn(async () => undefined),
      moveItem: vi.fn(async () => undefined),
    } as unknown as FoldersApi;
    render(<FolderTree api={api} selected="f1" onSelect={() => undefined} onMoved={() => undefined} />);
    expectEveryOccurrenceIsolated(screen.getByRole('navigation', { name: 'Folders' }));
    fireEvent.click(screen.getByRole('button', { name: 'Delete' }));
    expectEveryOccurrenceIsolated(await screen.findByRole('dialog'));
  });

  it('in the breadcrumbs', () => {
    render(<Breadcrumbs trail={[{ id: 'f1', name: SPOOF, parentId: null, count: 2 }]} onSelect={() => undefined} />);
    expectEveryOccurrenceIsolated(screen.getByRole('navigation', { name: 'Breadcrumbs' }));
  });

  it('in the trash and its confirmation', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json(200, { items: [{ ...item, id: 'i1' }] })),
    );
    render(<TrashList onRestored={() => undefined} />);
    await screen.findByText(SPOOF);
    expectEveryOccurrenceIsolated();
    fireEvent.click(screen.getByRole('button', { name: `Delete ${SPOOF} for good` }));
    expectEveryOccurrenceIsolated(await screen.findByRole('dialog'));
  });

  it('in the API token list', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () =>
        json(200, {
          tokens: [{ id: 't1', name: SPOOF, scopes: ['read'], createdAt: '2026-12-05T10:00:00Z', lastUsedAt: null, expiresAt: '2099-01-04T10:00:00Z' }],
        }),
      ),
    );
    render(<ApiTokens />);
    await screen.findByText(SPOOF);
    expectEveryOccurrenceIsolated();
  });

  it('in a connection’s name', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) =>
        url === '/api/integrations'
          ? json(200, { integrations: [], available: [{ provider: 'acme', label: SPOOF, configured: true, endpoints: [] }] })
          : json(404, {}),
      ),
    );
    window.history.replaceState(null, '', '/connections');
    render(
      <RouterProvider>
        <ConnectionsPage />
      </RouterProvider>,
    );
    expectEveryOccurrenceIsolated(await screen.findByRole('region', { name: SPOOF }));
  });

  it('in the lab list (names an import wrote)', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () =>
        json(200, {
          labs: [{ code: '718-7', name: SPOOF, panel: 'CBC', unit: 'g/dL', count: 1, latest: { value: 13, unit: 'g/dL', date: '2026-01-01T00:00:00Z' } }],
        }),
      ),
    );
    render(
      <RouterProvider>
        <LabList version={0} />
      </RouterProvider>,
    );
    await screen.findByText(SPOOF);
    expectEveryOccurrenceIsolated();
  });
});
