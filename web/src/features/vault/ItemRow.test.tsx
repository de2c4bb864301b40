import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { Item } from '../../api/types';
import { RouterProvider } from '../../app/router';
import { ItemRow, snippet } from './ItemRow';

const item: Item = {
  id: '3f0c8a5e-0000-4000-8000-000000000006',
  kind: 'document',
  source: 'upload',
  type: '',
  title: 'Insurance 🩺 notes',
  text: '',
  tags: ['🩺 health', 'y'.repeat(64)],
  occurredAt: null,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  version: 1,
  folderId: null,
  extraction: { status: 'failed', reason: 'scanned, OCR not installed' },
};

// jsdom does no layout: these check the rules the browser lays the row out by.
describe('<ItemRow> with long tags and badges', () => {
  it('keeps a minimum width for the title and lets tags and badges truncate instead', () => {
    render(
      <RouterProvider>
        <ItemRow item={item} />
      </RouterProvider>,
    );
    const title = screen.getByTestId('item-title');
    expect(title.className).toMatch(/min-w-\[/);
    expect(title.parentElement?.parentElement?.className).toMatch(/min-w-\[/);
    // The tag itself sits in its own isolating element inside the badge: the badge is found by its full text.
    const tag = screen.getByTitle(`#${'y'.repeat(64)}`);
    expect(tag.textContent).toBe(`#${'y'.repeat(64)}`);
    expect(tag.className).toMatch(/truncate/);
    expect(tag.getAttribute('title')).toBe(`#${'y'.repeat(64)}`);
    const badge = screen.getByText("Can't read this file: scanned, OCR not installed");
    expect(badge.className).toMatch(/truncate/);
  });
});

describe('a row of a preview', () => {
  it('shows that the text goes on when the server cut it, however short the preview', () => {
    expect(snippet('Short  preview\n', 140, true)).toBe('Short preview…');
    expect(snippet('Short preview', 140)).toBe('Short preview');
    expect(snippet('', 140, true)).toBe('');
    render(
      <RouterProvider>
        <ItemRow item={{ ...item, text: 'Cardiology letter', textTruncated: true }} />
      </RouterProvider>,
    );
    expect(screen.getByText('Cardiology letter…')).toBeTruthy();
  });
});
