import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { RouterProvider } from '../../app/router';
import { UploadList } from './UploadList';
import type { UploadEntry } from './useUploads';

const entry = (key: string, status: UploadEntry['status'], extra: Partial<UploadEntry> = {}): UploadEntry => ({
  key,
  name: `${key}.pdf`,
  size: 1000,
  progress: status === 'queued' ? 0 : 1,
  status,
  ...extra,
});

function list(entries: UploadEntry[]) {
  return (
    <RouterProvider>
      <UploadList entries={entries} onCancel={() => undefined} onClear={() => undefined} />
    </RouterProvider>
  );
}
const said = () => screen.getByRole('status').textContent;

describe('<UploadList> announcements', () => {
  it('says politely when an upload is saved, once', () => {
    const { rerender } = render(list([]));
    const region = screen.getByRole('status');
    expect(said()).toBe('');
    rerender(list([entry('a', 'uploading')]));
    expect(said()).toBe('');
    // The same region throughout: one added with the list would not be heard.
    expect(screen.getByRole('status')).toBe(region);
    rerender(list([entry('a', 'done')]));
    expect(said()).toBe('a.pdf saved to your vault.');
    // Re-rendering (another upload's progress, Clear finished) does not say it again.
    rerender(list([entry('b', 'queued'), entry('a', 'done')]));
    rerender(list([entry('b', 'uploading'), entry('a', 'done')]));
    expect(said()).toBe('a.pdf saved to your vault.');
    rerender(list([entry('b', 'duplicate')]));
    expect(said()).toBe('b.pdf is already in your vault.');
  });

  it('sums up files chosen together when the last of them finishes', () => {
    const { rerender } = render(list([entry('a', 'uploading'), entry('b', 'uploading'), entry('c', 'queued'), entry('d', 'queued')]));
    rerender(list([entry('a', 'done'), entry('b', 'uploading'), entry('c', 'uploading'), entry('d', 'queued')]));
    expect(said()).toBe('');
    rerender(list([entry('a', 'done'), entry('b', 'duplicate'), entry('c', 'done'), entry('d', 'failed', { error: 'Too big' })]));
    expect(said()).toBe('2 files saved to your vault, 1 already there, 1 failed.');
    // A failure is an alert of its own (with its reason), and the only one.
    expect(screen.getAllByRole('alert')).toHaveLength(1);
  });

  it('says nothing more for a lone failure, which its alert already said', () => {
    const { rerender } = render(list([entry('a', 'uploading')]));
    rerender(list([entry('a', 'failed', { error: 'Too big' })]));
    expect(said()).toBe('');
    expect(screen.getByRole('alert').textContent).toContain('Too big');
  });
});
