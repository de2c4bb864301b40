import { act, renderHook, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { forgetUploadLimit } from '../../api/upload';
import { useUploads } from './useUploads';

const MB = 1024 * 1024;

afterEach(() => {
  vi.unstubAllGlobals();
  forgetUploadLimit();
});

/** Records what would go over the wire; never answers (the size check is what is tested). */
class FakeXhr {
  static sent: unknown[] = [];
  upload = {};
  open() {}
  setRequestHeader() {}
  send(body: unknown) {
    FakeXhr.sent.push(body);
  }
  abort() {}
}

describe('useUploads', () => {
  it('refuses a file over the server limit before sending any of it, and says the limit', async () => {
    FakeXhr.sent = [];
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => new Response(JSON.stringify(url === '/api/limits' ? { maxUploadBytes: 2 * MB } : {}), { status: 200 })),
    );
    const { result } = renderHook(() => useUploads(() => undefined));
    const big = new File([new Uint8Array(2 * MB + 1)], 'huge.bin');
    const small = new File(['hello'], 'small.txt');
    act(() => result.current.add([big, small]));
    await waitFor(() => expect(result.current.entries.find((e) => e.name === 'huge.bin')?.status).toBe('failed'));
    expect(result.current.entries.find((e) => e.name === 'huge.bin')?.error).toBe('This file is larger than this server accepts (2 MB at most).');
    await waitFor(() => expect(FakeXhr.sent).toHaveLength(1));
    expect((FakeXhr.sent[0] as FormData).get('file')).toMatchObject({ name: 'small.txt' });
  });
});
