import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, ApiError, filenameFrom, onUnauthorized, qs, streamEvents, toApiError } from './client';

function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

afterEach(() => vi.unstubAllGlobals());

describe('API error mapping', () => {
  it('uses the server code and message from {error:{code,message}}', async () => {
    const e = await toApiError(jsonResponse(409, { error: { code: 'email_taken', message: 'An account with that email already exists.' } }));
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(409);
    expect(e.code).toBe('email_taken');
    expect(e.message).toBe('An account with that email already exists.');
  });

  it('falls back to a readable sentence for non-JSON bodies', async () => {
    const e = await toApiError(new Response('<html>Bad gateway</html>', { status: 502 }));
    expect(e.code).toBe('http_502');
    expect(e.message).toMatch(/went wrong on the server/);
    const e413 = await toApiError(new Response('', { status: 413 }));
    expect(e413.message).toBe('That file is too large.');
  });

  it('says schema messages from the server in plain words, not as "field: template"', async () => {
    const said = async (message: string) => (await toApiError(jsonResponse(400, { error: { code: 'invalid_request', message } }))).message;
    expect(await said('tags.1: must be 1 to 64 characters')).toBe('Each tag must be 1 to 64 characters.');
    expect(await said('q: Too big: expected string to have <=500 characters')).toBe('The search is too long: at most 500 characters.');
    expect(await said('title: Too small: expected string to have >=1 characters')).toBe('The title must not be empty.');
    expect(await said('data.weird: Invalid input: expected number, received string')).toBe('Something you entered is not valid.');
    // Other errors keep the server's own sentence.
    const other = await toApiError(jsonResponse(400, { error: { code: 'bad_multipart', message: 'Note: the body is cut off.' } }));
    expect(other.message).toBe('Note: the body is cut off.');
  });

  it('reads Retry-After on 429', async () => {
    const e = await toApiError(jsonResponse(429, { error: { code: 'rate_limited', message: 'Slow down.' } }, { 'retry-after': '30' }));
    expect(e.retryAfter).toBe(30);
  });

  it('throws ApiError from api.get/post and sends JSON with same-origin credentials', async () => {
    const fetchMock = vi.fn().mockResolvedValue(jsonResponse(400, { error: { code: 'invalid_body', message: 'Title is required.' } }));
    vi.stubGlobal('fetch', fetchMock);
    await expect(api.post('/api/items', { title: '' })).rejects.toMatchObject({ status: 400, code: 'invalid_body', message: 'Title is required.' });
    const [url, init] = fetchMock.mock.calls[0]!;
    expect(url).toBe('/api/items');
    expect(init.method).toBe('POST');
    expect(init.credentials).toBe('same-origin');
    expect(init.headers['Content-Type']).toBe('application/json');
    expect(JSON.parse(init.body)).toEqual({ title: '' });
  });

  it('maps network failures to network_error and returns undefined for 204', async () => {
    vi.stubGlobal('fetch', vi.fn().mockRejectedValue(new TypeError('Failed to fetch')));
    await expect(api.get('/api/items')).rejects.toMatchObject({ status: 0, code: 'network_error' });
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(new Response(null, { status: 204 })));
    await expect(api.del('/api/items/x')).resolves.toBeUndefined();
  });

  it('tells the session layer about a 401 unless asked to stay quiet', async () => {
    const heard = vi.fn();
    const off = onUnauthorized(heard);
    vi.stubGlobal(
      'fetch',
      vi.fn().mockImplementation(() => Promise.resolve(jsonResponse(401, { error: { code: 'unauthorized', message: 'Sign in.' } }))),
    );
    await expect(api.get('/api/items')).rejects.toBeInstanceOf(ApiError);
    await expect(api.get('/api/auth/me', { quiet401: true })).rejects.toBeInstanceOf(ApiError);
    expect(heard).toHaveBeenCalledTimes(1);
    vi.stubGlobal(
      'fetch',
      vi.fn().mockResolvedValue(jsonResponse(401, { error: { code: 'invalid_credentials', message: 'The current passphrase is incorrect.' } })),
    );
    await expect(api.post('/api/auth/passphrase', { current: 'x', next: 'y' })).rejects.toMatchObject({ message: 'The current passphrase is incorrect.' });
    expect(heard).toHaveBeenCalledTimes(1);
    off();
  });

  it('maps a 503 ai_offline answer to the chat stream as an ApiError before any event', async () => {
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(jsonResponse(503, { error: { code: 'ai_offline', message: 'The AI is offline.' } })));
    const it = streamEvents('/api/chat', { message: 'hi' });
    await expect(it.next()).rejects.toMatchObject({ status: 503, code: 'ai_offline', message: 'The AI is offline.' });
  });

  it('streams events out of a ReadableStream body', async () => {
    const enc = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc.encode('event: tok'));
        c.enqueue(enc.encode('en\ndata: {"text":"Hi"}\n\nevent: done\ndata: {"chatId":"c"}\n\n'));
        c.close();
      },
    });
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } })));
    const evs = [];
    for await (const e of streamEvents('/api/chat', { message: 'hi' })) evs.push(e);
    expect(evs).toEqual([
      { event: 'token', data: '{"text":"Hi"}' },
      { event: 'done', data: '{"chatId":"c"}' },
    ]);
  });
});

describe('helpers', () => {
  it('reads file names from Content-Disposition', () => {
    expect(filenameFrom('attachment; filename="context-vault-export-2026-01-02.age"')).toBe('context-vault-export-2026-01-02.age');
    expect(filenameFrom("attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf")).toBe('résumé.pdf');
    expect(filenameFrom(null)).toBeNull();
  });
  it('builds query strings without empty values', () => {
    expect(qs({ kind: 'note', tag: '', cursor: null, limit: 50 })).toBe('?kind=note&limit=50');
    expect(qs({})).toBe('');
  });
});
