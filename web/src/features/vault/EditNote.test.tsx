import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Item } from '../../api/types';
import { EditNote } from './EditNote';
import { parseTags } from './NoteEditor';

const ID = '3f0c8a5e-0000-4000-8000-000000000020';
const STORED = ['Cardiology', '#1 priority', 'Smith, John', 'Dr. Ng'];
const item = (over: Partial<Item> = {}): Item => ({
  id: ID,
  kind: 'note',
  source: 'manual',
  type: null,
  title: 'Visit',
  text: 'first line',
  tags: STORED,
  occurredAt: null,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  version: 1,
  folderId: null,
  ...over,
});
const reply = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

afterEach(() => vi.unstubAllGlobals());

/** The editor with a server that answers each PATCH with `answer`; returns the bodies sent. */
function edit(answer: (body: Record<string, unknown>) => Response = (b) => reply(200, { ...item(), ...b, version: 2 })) {
  const sent: Record<string, unknown>[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      if (init?.method === 'PATCH') {
        const body = JSON.parse(String(init.body)) as Record<string, unknown>;
        sent.push(body);
        return answer(body);
      }
      return reply(200, item());
    }),
  );
  render(<EditNote item={item()} onSaved={() => undefined} onClose={() => undefined} />);
  return sent;
}
const saveNow = () => fireEvent.click(screen.getByRole('button', { name: 'Save now' }));

describe('tags in the note editor', () => {
  it('parses only what is typed: split on commas, a leading # dropped, the case kept', () => {
    expect(parseTags('Follow-Up, #urgent\nx, , X')).toEqual(['Follow-Up', 'urgent', 'x']);
  });

  it('keeps every stored tag as it is when one is added', async () => {
    const sent = edit();
    const tags = screen.getByRole('group', { name: 'Tags' });
    expect(within(tags).getByText('Smith, John')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Add tags'), { target: { value: 'x, Follow-Up' } });
    saveNow();
    await waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]!.tags).toEqual([...STORED, 'x', 'Follow-Up']);
  });

  it('removes one tag and leaves the others byte for byte', async () => {
    const sent = edit();
    fireEvent.click(screen.getByRole('button', { name: 'Remove tag Smith, John' }));
    saveNow();
    await waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]!.tags).toEqual(['Cardiology', '#1 priority', 'Dr. Ng']);
  });

  it('sends the stored tags unchanged with a text-only edit', async () => {
    const sent = edit();
    fireEvent.change(screen.getByLabelText('Text (Markdown)'), { target: { value: 'second line' } });
    saveNow();
    await waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]!.text).toBe('second line');
    if ('tags' in sent[0]!) expect(sent[0]!.tags).toEqual(STORED);
  });
});

describe('why a save failed', () => {
  it('shows the size limit the server states', async () => {
    const message = 'A note can hold at most 1,000,000 characters. This one is larger: split it into several notes.';
    edit(() => reply(413, { error: { code: 'too_large', message } }));
    fireEvent.change(screen.getByLabelText('Text (Markdown)'), { target: { value: 'big' } });
    saveNow();
    expect(await screen.findByText(message)).toBeTruthy();
    expect(screen.getByTestId('save-state').textContent).toContain('Not saved');
  });

  it('says the note is in the trash and can be restored, keeping what was typed', async () => {
    edit(() => reply(409, { error: { code: 'item_trashed', message: 'This note is in the trash. Restore it from the trash to edit it.' } }));
    fireEvent.change(screen.getByLabelText('Text (Markdown)'), { target: { value: 'typed meanwhile' } });
    saveNow();
    expect(await screen.findByText(/moved to the trash/)).toBeTruthy();
    expect(screen.getByText(/Restore it from the trash/)).toBeTruthy();
    expect((screen.getByLabelText('Text (Markdown)') as HTMLTextAreaElement).value).toBe('typed meanwhile');
  });
});
