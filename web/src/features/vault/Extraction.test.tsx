import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Item } from '../../api/types';
import { ExtractionBadge, ExtractionNotice } from './Extraction';

const item = (extraction: Item['extraction'], text = ''): Item => ({
  id: '11111111-1111-4111-8111-111111111111',
  kind: 'document',
  source: 'upload',
  type: 'application/pdf',
  title: 'scan',
  text,
  tags: [],
  occurredAt: null,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  version: 1,
  folderId: null,
  fileId: '22222222-2222-4222-8222-222222222222',
  extraction,
});
const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

afterEach(() => vi.unstubAllGlobals());

describe('extraction badge and "Read again"', () => {
  it('shows the reason for an unreadable file, "reading" while pending, nothing when read', () => {
    const { rerender, container } = render(<ExtractionBadge extraction={{ status: 'failed', reason: 'scanned, OCR not installed' }} />);
    expect(screen.getByTestId('unreadable-badge').textContent).toBe("Can't read this file: scanned, OCR not installed");
    rerender(<ExtractionBadge extraction={{ status: 'pending' }} />);
    expect(screen.getByText('Reading…')).toBeTruthy();
    rerender(<ExtractionBadge extraction={{ status: 'ok' }} />);
    expect(container.textContent).toBe('');
  });

  it('starts a read, follows the job and hands back the item it read', async () => {
    const calls: string[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init?: RequestInit) => {
        calls.push(`${init?.method ?? 'GET'} ${url}`);
        if (url.endsWith('/extract')) return json({ jobId: 'j1' }, 202);
        if (url === '/api/jobs/j1') return json({ id: 'j1', status: 'done', progress: { done: 1, total: 1, unit: 'pages' } });
        return json(item({ status: 'ok' }, 'Colonoscopy report'));
      }),
    );
    const onChange = vi.fn();
    render(<ExtractionNotice item={item({ status: 'failed', reason: 'scanned, OCR not installed' })} onChange={onChange} />);
    fireEvent.click(screen.getByRole('button', { name: 'Read again' }));
    await waitFor(() => expect(onChange).toHaveBeenCalled());
    expect(onChange.mock.calls[0]![0]).toMatchObject({ text: 'Colonoscopy report', extraction: { status: 'ok' } });
    expect(calls).toEqual([
      'POST /api/items/11111111-1111-4111-8111-111111111111/extract',
      'GET /api/jobs/j1',
      'GET /api/items/11111111-1111-4111-8111-111111111111',
    ]);
  });

  it('offers no "Read again" where a second read gets the same answer: an encrypted PDF', () => {
    const { rerender } = render(<ExtractionNotice item={item({ status: 'failed', reason: 'encrypted PDF' })} onChange={() => {}} />);
    expect(screen.getByTestId('unreadable-badge').textContent).toBe("Can't read this file: encrypted PDF");
    expect(screen.queryByRole('button', { name: 'Read again' })).toBeNull();
    rerender(<ExtractionNotice item={item({ status: 'failed', reason: 'scanned, OCR not installed' })} onChange={() => {}} />);
    expect(screen.getByRole('button', { name: 'Read again' })).toBeTruthy();
  });

  it('says when a read worked only in part, offering "Read again" only where it changes something', () => {
    const { rerender, container } = render(<ExtractionNotice item={item({ status: 'ok' })} onChange={() => {}} />);
    expect(container.textContent).toBe('');
    rerender(
      <ExtractionNotice
        item={item({ status: 'ok', reason: "the text was edited while the file was read; Read again replaces it with the file's text" })}
        onChange={() => {}}
      />,
    );
    expect(screen.getByRole('status').textContent).toBe("The text was edited while the file was read; Read again replaces it with the file's text.");
    expect(screen.getByRole('button', { name: 'Read again' })).toBeTruthy();
    rerender(<ExtractionNotice item={item({ status: 'ok', reason: 'only 5 of 40 pages were read (OCR_MAX_PAGES)' })} onChange={() => {}} />);
    expect(screen.getByRole('status').textContent).toBe('Only 5 of 40 pages were read (OCR_MAX_PAGES).');
    expect(screen.queryByRole('button', { name: 'Read again' })).toBeNull();
  });
});
