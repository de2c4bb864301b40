/**
 * A node:http stand-in for the Google Health API v4 list endpoint, for unit and end-to-end
 * tests: bearer check (401 with a Google-style error body), AIP-160 `>=`/`<`/... filters joined
 * by AND, `pageSize`/`pageToken` paging, and 429 with Retry-After on demand.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DataPoint, GoogleHealthDataType } from '../../../integrations/google-health/client.js';

/** One request the fake server saw (never the token itself). */
export interface FakeRequest {
  method: string;
  path: string;
  dataType: string | null;
  filter: string | null;
  pageToken: string | null;
  pageSize: number | null;
  authorized: boolean;
  status: number;
}

/** Settings of {@link startFakeGoogleHealthServer}. */
export interface FakeGoogleHealthOptions {
  /** The only bearer token accepted. */
  accessToken: string;
  dataPoints?: Partial<Record<GoogleHealthDataType, DataPoint[]>>;
  /** Page size when the client asks for none (default 1,440, the API's documented default). */
  defaultPageSize?: number;
  /** Largest page served (default 10,000; sleep is capped at 25 like the real API). */
  maxPageSize?: number;
  /** Port to listen on (default: any free port on 127.0.0.1). */
  port?: number;
}

/** A running fake server. */
export interface FakeGoogleHealthServer {
  /** Origin, e.g. "http://127.0.0.1:43121"; pass as the client's `baseUrl`. */
  url: string;
  requests: FakeRequest[];
  setAccessToken(token: string): void;
  addDataPoints(type: GoogleHealthDataType, points: DataPoint[]): void;
  /** Answer the next `times` requests with 429 and this Retry-After (seconds or HTTP date; null: none). */
  rateLimit(times: number, retryAfter?: number | string | null): void;
  /** Answer the next `times` requests with this status (e.g. 500, 503, 410). */
  failNext(times: number, status: number): void;
  /**
   * How data-point pages are answered, after the bearer check: `huge` ~20 MiB of valid JSON,
   * `malformed` cut-off JSON, `html` a maintenance page, `repeat` an empty page whose
   * `nextPageToken` is always the same, `endless` empty pages each with a new token, `silent`
   * takes the request and never answers. Null: behave.
   */
  misbehaviour: null | 'huge' | 'malformed' | 'html' | 'repeat' | 'endless' | 'silent';
  close(): Promise<void>;
}

const TYPES: readonly string[] = ['heart-rate', 'steps', 'sleep', 'weight', 'daily-resting-heart-rate'];

/** The value a filter path names on a point, e.g. "steps.interval.start_time". */
function fieldValue(dp: DataPoint, path: string): string | undefined {
  const segs = path.split('.');
  const camel = (s: string): string => s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
  let cur: unknown = dp;
  for (const [i, seg] of segs.entries()) {
    if (cur === null || typeof cur !== 'object') return undefined;
    const key = camel(seg);
    cur = (cur as Record<string, unknown>)[key];
    if (i === segs.length - 1 && key === 'date' && cur && typeof cur === 'object') {
      const d = cur as { year?: number; month?: number; day?: number };
      return `${String(d.year).padStart(4, '0')}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
    }
  }
  return typeof cur === 'string' ? cur : undefined;
}

interface Clause {
  field: string;
  op: string;
  value: string;
}

function parseFilter(filter: string): Clause[] | null {
  const clauses: Clause[] = [];
  for (const part of filter.split(/\s+AND\s+/)) {
    const m = /^\s*([a-z_.]+)\s*(>=|<=|>|<|=)\s*"([^"]*)"\s*$/.exec(part);
    if (!m) return null;
    clauses.push({ field: m[1]!, op: m[2]!, value: m[3]! });
  }
  return clauses;
}

function compare(a: string, b: string): number {
  const x = Date.parse(a);
  const y = Date.parse(b);
  if (Number.isFinite(x) && Number.isFinite(y) && /T/.test(a + b)) return x - y;
  return a < b ? -1 : a > b ? 1 : 0;
}

function matches(dp: DataPoint, clauses: Clause[]): boolean {
  return clauses.every((c) => {
    const v = fieldValue(dp, c.field);
    if (v === undefined) return false;
    const r = compare(v, c.value);
    return c.op === '>=' ? r >= 0 : c.op === '<=' ? r <= 0 : c.op === '>' ? r > 0 : c.op === '<' ? r < 0 : r === 0;
  });
}

function sortKey(dp: DataPoint): string {
  return (
    fieldValue(dp, 'heart_rate.sample_time.physical_time') ??
    fieldValue(dp, 'weight.sample_time.physical_time') ??
    fieldValue(dp, 'steps.interval.start_time') ??
    fieldValue(dp, 'sleep.interval.start_time') ??
    fieldValue(dp, 'daily_resting_heart_rate.date') ??
    ''
  );
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function googleError(code: number, status: string, message: string): unknown {
  return { error: { code, message, status } };
}

/** Start the fake API on 127.0.0.1. */
export async function startFakeGoogleHealthServer(opts: FakeGoogleHealthOptions): Promise<FakeGoogleHealthServer> {
  let token = opts.accessToken;
  const store = new Map<string, DataPoint[]>();
  for (const t of TYPES) store.set(t, []);
  for (const [t, pts] of Object.entries(opts.dataPoints ?? {})) store.get(t)?.push(...(pts ?? []));
  const requests: FakeRequest[] = [];
  let limited = 0;
  let retryAfter: number | string | null = 1;
  let failing = 0;
  let failStatus = 500;

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const m = /^\/v4\/users\/me\/dataTypes\/([^/]+)\/dataPoints$/.exec(url.pathname);
    const auth = req.headers.authorization ?? '';
    const authorized = auth === `Bearer ${token}`;
    const log: FakeRequest = {
      method: req.method ?? '',
      path: url.pathname,
      dataType: m ? decodeURIComponent(m[1]!) : null,
      filter: url.searchParams.get('filter'),
      pageToken: url.searchParams.get('pageToken'),
      pageSize: url.searchParams.has('pageSize') ? Number(url.searchParams.get('pageSize')) : null,
      authorized,
      status: 0,
    };
    requests.push(log);
    const reply = (status: number, body: unknown, headers?: Record<string, string>): void => {
      log.status = status;
      sendJson(res, status, body, headers);
    };
    if (!authorized) {
      return reply(401, googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.'), {
        'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"',
      });
    }
    if (limited > 0) {
      limited -= 1;
      const h: Record<string, string> = {};
      if (retryAfter !== null) h['retry-after'] = String(retryAfter);
      return reply(429, googleError(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded for requests per minute per user.'), h);
    }
    if (failing > 0) {
      failing -= 1;
      return reply(failStatus, googleError(failStatus, failStatus === 410 ? 'GONE' : 'UNAVAILABLE', 'Injected failure.'));
    }
    if (req.method !== 'GET' || !m) return reply(404, googleError(404, 'NOT_FOUND', 'Not found.'));
    if (fake.misbehaviour) {
      log.status = 200;
      // The client stops reading mid-stream on purpose; the broken pipe is expected.
      res.on('error', () => {});
      switch (fake.misbehaviour) {
        case 'huge': {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{"dataPoints":[],"pad":"');
          const mib = 'x'.repeat(1024 * 1024);
          let left = 20;
          const more = (): void => {
            while (left > 0 && !res.destroyed) {
              left -= 1;
              if (!res.write(mib)) return void res.once('drain', more);
            }
            if (!res.destroyed) res.end('"}');
          };
          return more();
        }
        case 'malformed':
          res.writeHead(200, { 'content-type': 'application/json' });
          return void res.end('{"dataPoints":[{"name":');
        case 'html':
          res.writeHead(200, { 'content-type': 'text/html' });
          return void res.end('<html>PROVIDER-MAINTENANCE-CANARY</html>');
        case 'repeat':
          return sendJson(res, 200, { dataPoints: [], nextPageToken: 'same-token' });
        case 'endless':
          return sendJson(res, 200, { dataPoints: [], nextPageToken: `t${requests.length}` });
        case 'silent':
          return;
      }
    }
    const type = log.dataType!;
    if (!TYPES.includes(type)) {
      return reply(400, googleError(400, 'INVALID_ARGUMENT', `INVALID_PARENT_DATA_TYPE_COLLECTION: ${type}`));
    }
    const filter = log.filter ?? '';
    const clauses = filter ? parseFilter(filter) : [];
    if (!clauses) return reply(400, googleError(400, 'INVALID_ARGUMENT', 'Invalid filter.'));
    const max = type === 'sleep' ? 25 : (opts.maxPageSize ?? 10_000);
    const size = Math.min(max, log.pageSize && log.pageSize > 0 ? log.pageSize : type === 'sleep' ? 25 : (opts.defaultPageSize ?? 1_440));
    let offset = 0;
    if (log.pageToken) {
      try {
        const t = JSON.parse(Buffer.from(log.pageToken, 'base64url').toString('utf8')) as { o: number; f: string; t: string };
        // AIP-158: a page token is only valid with the same request parameters.
        if (t.f !== filter || t.t !== type || !Number.isInteger(t.o)) throw new Error('mismatch');
        offset = t.o;
      } catch {
        return reply(400, googleError(400, 'INVALID_ARGUMENT', 'Invalid page token.'));
      }
    }
    const all = (store.get(type) ?? []).filter((dp) => matches(dp, clauses)).sort((a, b) => compare(sortKey(a), sortKey(b)));
    const page = all.slice(offset, offset + size);
    const body: { dataPoints: DataPoint[]; nextPageToken?: string } = { dataPoints: page };
    if (offset + size < all.length) {
      body.nextPageToken = Buffer.from(JSON.stringify({ o: offset + size, f: filter, t: type }), 'utf8').toString('base64url');
    }
    reply(200, body);
  };

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const fake: FakeGoogleHealthServer = {
    misbehaviour: null,
    url: `http://127.0.0.1:${port}`,
    requests,
    setAccessToken: (t) => {
      token = t;
    },
    addDataPoints: (type, points) => {
      store.get(type)?.push(...points);
    },
    rateLimit: (times, ra = 1) => {
      limited = times;
      retryAfter = ra;
    },
    failNext: (times, status) => {
      failing = times;
      failStatus = status;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
  return fake;
}
