import { SseParser, type SseEvent } from './sse';

/** Every failure the app shows comes through here, with the server's own sentence when it sent one. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly retryAfter?: number;
  /** The whole JSON body, for errors that carry more than a sentence (a 409 carries `current`). */
  readonly body?: unknown;

  constructor(status: number, code: string, message: string, retryAfter?: number, body?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    if (retryAfter !== undefined) this.retryAfter = retryAfter;
    if (body !== undefined) this.body = body;
  }
}

const FALLBACK_MESSAGES: Record<number, string> = {
  400: 'That request was not accepted. Please check what you entered.',
  401: 'Your session has ended. Please sign in again.',
  403: 'You are not allowed to do that.',
  404: 'That could not be found.',
  409: 'That conflicts with something that already exists.',
  413: 'That file is too large.',
  415: 'That type of file is not supported.',
  422: 'That content could not be read.',
  429: 'Too many attempts. Please wait a moment and try again.',
  503: 'The service is temporarily unavailable.',
};

function fallbackMessage(status: number): string {
  return FALLBACK_MESSAGES[status] ?? (status >= 500 ? 'Something went wrong on the server. Please try again.' : `Request failed (${status}).`);
}

/** Maps a non-2xx response to an ApiError, reading `{error:{code,message}}` when it is there. */
export async function toApiError(res: Response): Promise<ApiError> {
  const retryHeader = res.headers.get('retry-after');
  const retryAfter = retryHeader && /^\d+$/.test(retryHeader) ? Number(retryHeader) : undefined;
  let code = `http_${res.status}`;
  let message = fallbackMessage(res.status);
  let parsed: unknown;
  try {
    const text = await res.text();
    if (text) {
      const body = JSON.parse(text) as unknown;
      parsed = body;
      const err = (body as { error?: unknown })?.error;
      if (err && typeof err === 'object') {
        const e = err as { code?: unknown; message?: unknown };
        if (typeof e.code === 'string' && e.code) code = e.code;
        if (typeof e.message === 'string' && e.message) message = e.message;
      } else if (typeof err === 'string') {
        message =
          (body as { message?: unknown }).message && typeof (body as { message?: unknown }).message === 'string'
            ? String((body as { message: string }).message)
            : message;
      }
    }
  } catch {
    // Not JSON (a proxy's HTML page, an empty body): keep the generic sentence.
  }
  if (res.status === 400 && (code === 'invalid_request' || code === 'validation_failed')) message = plainValidationMessage(message);
  if (res.status === 429 && retryAfter !== undefined) message = withWait(message, retryAfter);
  return new ApiError(res.status, code, message, retryAfter, parsed);
}

/**
 * "Too many attempts. Try again later." with the wait the server sent (Retry-After) in place of
 * "later", so nobody retries blindly into the same lock.
 */
export function withWait(message: string, seconds: number): string {
  const wait =
    seconds < 60
      ? `${seconds} second${seconds === 1 ? '' : 's'}`
      : seconds < 3600
        ? `${Math.ceil(seconds / 60)} minute${Math.ceil(seconds / 60) === 1 ? '' : 's'}`
        : `${Math.ceil(seconds / 3600)} hour${Math.ceil(seconds / 3600) === 1 ? '' : 's'}`;
  const head = message.replace(/\s*(Please wait a moment and try again|Try again (later|shortly))\.?\s*$/i, '').trim();
  return `${head ? `${head} ` : ''}Try again in ${wait}.`;
}

/** The words people know for the fields the server names in its validation messages. */
const FIELD_NAMES: Record<string, string> = {
  tags: 'Each tag',
  title: 'The title',
  text: 'The text',
  q: 'The search',
  message: 'The message',
  name: 'The name',
  email: 'The email',
  passphrase: 'The passphrase',
  id: 'The address',
};

/**
 * The server's schema check answers "field.path: template" (`tags.1: must be 1 to 64 characters`,
 * `q: Too big: expected string to have <=500 characters`): written for developers. Said here in
 * plain words, for every form at once; other messages pass through unchanged.
 */
export function plainValidationMessage(message: string): string {
  const m = /^([A-Za-z][\w]*(?:\.[\w]+)*): (.+)$/.exec(message);
  if (!m) return message;
  const segments = m[1]!.split('.').filter((p) => !/^\d+$/.test(p));
  const field = FIELD_NAMES[segments[segments.length - 1] ?? ''] ?? 'Something you entered';
  const rule = m[2]!;
  let n: RegExpExecArray | null;
  if ((n = /^Too big: expected string to have <=(\d+) characters?$/.exec(rule))) return `${field} is too long: at most ${n[1]} characters.`;
  if ((n = /^Too small: expected string to have >=(\d+) characters?$/.exec(rule)))
    return n[1] === '1' ? `${field} must not be empty.` : `${field} is too short: at least ${n[1]} characters.`;
  if ((n = /^Too big: expected array to have <=(\d+) items?$/.exec(rule))) return `${field}: at most ${n[1]} are allowed.`;
  if ((n = /^Too big: expected number to be <=(\d+)$/.exec(rule))) return `${field} is too large: at most ${n[1]}.`;
  if ((n = /^Too small: expected number to be >=(\d+)$/.exec(rule))) return `${field} is too small: at least ${n[1]}.`;
  if (/^must [^:]*$/.test(rule)) return `${field} ${rule.replace(/\.$/, '')}.`;
  return `${field} is not valid.`;
}

type Listener = (err: ApiError) => void;
const unauthorizedListeners = new Set<Listener>();

/** Lets the session layer hear about any 401, so an expired session sends the user to sign in. */
export function onUnauthorized(fn: Listener): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  signal?: AbortSignal;
  /** Send as-is (FormData, Blob, string) instead of JSON-encoding. */
  raw?: BodyInit;
  headers?: Record<string, string>;
  /** Do not broadcast a 401 (used by the initial "who am I" probe and sign-in forms). */
  quiet401?: boolean;
}

async function send(path: string, opts: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
  let body: BodyInit | undefined;
  if (opts.raw !== undefined) {
    body = opts.raw;
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(path, { method: opts.method ?? (body === undefined ? 'GET' : 'POST'), credentials: 'same-origin', headers, body, signal: opts.signal });
  } catch (e) {
    if ((e as { name?: string })?.name === 'AbortError') throw e;
    throw new ApiError(0, 'network_error', 'Could not reach Context Vault. Check your connection and try again.');
  }
  if (!res.ok) {
    const err = await toApiError(res);
    // A wrong passphrase (changing it, deleting the account) is a 401 too, but not a lost session.
    if (res.status === 401 && !opts.quiet401 && err.code !== 'invalid_credentials') unauthorizedListeners.forEach((fn) => fn(err));
    throw err;
  }
  return res;
}

async function json<T>(path: string, opts?: RequestOptions): Promise<T> {
  const res = await send(path, opts);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const api = {
  request: send,
  get: <T>(path: string, opts?: RequestOptions) => json<T>(path, { ...opts, method: 'GET' }),
  post: <T>(path: string, body?: unknown, opts?: RequestOptions) => json<T>(path, { ...opts, method: 'POST', body: body ?? {} }),
  patch: <T>(path: string, body: unknown, opts?: RequestOptions) => json<T>(path, { ...opts, method: 'PATCH', body }),
  put: <T>(path: string, body: unknown, opts?: RequestOptions) => json<T>(path, { ...opts, method: 'PUT', body }),
  del: <T = void>(path: string, body?: unknown, opts?: RequestOptions) => json<T>(path, { ...opts, method: 'DELETE', body }),
  /** Binary download: resolves to the bytes and the file name the server suggested. */
  async blob(path: string, opts?: RequestOptions): Promise<{ blob: Blob; filename: string | null }> {
    const res = await send(path, { ...opts, headers: { Accept: '*/*', ...opts?.headers } });
    return { blob: await res.blob(), filename: filenameFrom(res.headers.get('content-disposition')) };
  },
};

export function filenameFrom(disposition: string | null): string | null {
  if (!disposition) return null;
  const star = /filename\*\s*=\s*(?:UTF-8'')?([^;]+)/i.exec(disposition);
  if (star?.[1]) {
    try {
      return decodeURIComponent(star[1].trim().replace(/^"|"$/g, ''));
    } catch {
      /* fall through */
    }
  }
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(disposition);
  return plain?.[1]?.trim() ?? null;
}

export function qs(params: Record<string, string | number | undefined | null>): string {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') sp.set(k, String(v));
  const s = sp.toString();
  return s ? `?${s}` : '';
}

/**
 * POSTs JSON and yields the server-sent events of the response as they arrive. Aborting the
 * signal cancels the fetch, which tells the server to stop generating.
 */
export async function* streamEvents(path: string, body: unknown, signal?: AbortSignal): AsyncGenerator<SseEvent> {
  const res = await send(path, { method: 'POST', body, signal, headers: { Accept: 'text/event-stream' } });
  if (!res.body) throw new ApiError(res.status, 'no_stream', 'The server sent no answer.');
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const ev of parser.push(decoder.decode(value, { stream: true }))) yield ev;
    }
    for (const ev of parser.push(decoder.decode())) yield ev;
    for (const ev of parser.end()) yield ev;
  } finally {
    reader.releaseLock?.();
  }
}

/** Triggers a browser download of bytes we already hold (recovery key, export). */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}
