/** The HTTP side: data point shapes, errors, one page of `dataTypes/{type}/dataPoints` with back-off. */
import { OversizedResponseError, parseRetryAfter, readCapped, retryAtAfter, scrubProviderText } from '../oauth/index.js';

export { parseRetryAfter };

/** The data types this connector reads (hyphenated ids, as the API requires). */
export type GoogleHealthDataType = 'heart-rate' | 'steps' | 'sleep' | 'weight' | 'daily-resting-heart-rate';

/** All data types, in sync order. */
export const GOOGLE_HEALTH_DATA_TYPES: readonly GoogleHealthDataType[] = ['heart-rate', 'steps', 'sleep', 'weight', 'daily-resting-heart-rate'];

/** Default API origin; `/v4/...` is appended. */
export const GOOGLE_HEALTH_BASE_URL = 'https://health.googleapis.com';

/** Why an API call failed; never carries the access token. */
/**
 * `bad_response`: a 200 that is not a readable page (too large, not JSON, a repeating page
 * token); `incomplete`: a data type cut off at the page cap.
 */
export type GoogleHealthErrorCode =
  'unauthorized' | 'forbidden' | 'rate_limited' | 'gone' | 'bad_request' | 'server' | 'network' | 'aborted' | 'bad_response' | 'incomplete';

/**
 * Largest page read. A page of the largest `pageSize` the API allows is a few MiB of JSON; the
 * cap keeps a broken or hostile endpoint from making one sync buffer without bound.
 */
export const MAX_GOOGLE_HEALTH_RESPONSE_BYTES = 16 * 1024 * 1024;

/** A failed Google Health API call, with a message safe to log and show. */
export class GoogleHealthError extends Error {
  readonly code: GoogleHealthErrorCode;
  readonly status: number | null;
  /** `rate_limited`: when Google asked to be tried again (its Retry-After), if it said. */
  readonly retryAt?: Date;
  constructor(code: GoogleHealthErrorCode, status: number | null, message: string, options?: { cause?: unknown; retryAt?: Date }) {
    super(message, options);
    this.name = 'GoogleHealthError';
    this.code = code;
    this.status = status;
    if (options?.retryAt) this.retryAt = options.retryAt;
  }
}

/** A time with its civil breakdown, as the API writes it. */
export interface ObservationSampleTime {
  physicalTime?: string;
  utcOffset?: string;
  civilTime?: CivilDateTime;
}
/** An interval with offsets and civil breakdowns, as the API writes it. */
export interface ObservationTimeInterval {
  startTime?: string;
  startUtcOffset?: string;
  endTime?: string;
  endUtcOffset?: string;
  civilStartTime?: CivilDateTime;
  civilEndTime?: CivilDateTime;
}
/** google.type.Date + TimeOfDay. */
export interface CivilDateTime {
  date?: GDate;
  time?: { hours?: number; minutes?: number; seconds?: number; nanos?: number };
}
/** google.type.Date. */
export interface GDate {
  year?: number;
  month?: number;
  day?: number;
}
type Int64 = string | number;

/** One data point of the list response (only the members this connector reads). */
export interface DataPoint {
  name?: string;
  dataSource?: {
    platform?: string;
    recordingMethod?: string;
    device?: { displayName?: string; model?: string; manufacturer?: string; formFactor?: string };
    application?: { displayName?: string; packageName?: string };
  };
  heartRate?: { sampleTime?: ObservationSampleTime; beatsPerMinute?: Int64 };
  steps?: { interval?: ObservationTimeInterval; count?: Int64 };
  weight?: { sampleTime?: ObservationSampleTime; weightGrams?: number | string; notes?: string };
  dailyRestingHeartRate?: { date?: GDate; beatsPerMinute?: Int64 };
  sleep?: {
    interval?: ObservationTimeInterval;
    metadata?: { nap?: boolean; [k: string]: unknown };
    summary?: {
      minutesAsleep?: Int64;
      minutesAwake?: Int64;
      minutesInSleepPeriod?: Int64;
      minutesToFallAsleep?: Int64;
      minutesAfterWakeUp?: Int64;
      stagesSummary?: Array<{ type?: string; minutes?: Int64; count?: Int64 }>;
    };
    stages?: Array<{ type?: string; startTime?: string; endTime?: string }>;
  };
}

/** `ListDataPointsResponse`. */
export interface ListDataPointsResponse {
  dataPoints?: DataPoint[];
  nextPageToken?: string;
}

/** Most one request to Google Health may take, as Epic's client allows. */
export const REQUEST_TIMEOUT_MS = 60_000;

/** Transport and retry settings. */
export interface GoogleHealthClientOptions {
  /** API origin (tests point this at the fake server). Default {@link GOOGLE_HEALTH_BASE_URL}. */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** Retries of one request after 429 or 5xx (default 5). */
  maxRetries?: number;
  /**
   * Longest wait honoured in place (default 60 s). A Retry-After asking for longer is not cut
   * short: the request fails `rate_limited` at once with its `retryAt`, for the next sync to keep.
   */
  maxRetryDelayMs?: number;
  /** First back-off when no Retry-After is given (default 1 s), doubled each retry. */
  baseRetryDelayMs?: number;
  /** Page size asked for (the API caps it; sleep pages hold at most 25). */
  pageSize?: number;
  /** Cancels the sync (its owner disconnected, the server stops). */
  signal?: AbortSignal;
  /** Most one request may take, its body included (default 60 s); a request that times out is tried once more. */
  requestTimeoutMs?: number;
  /** Injected for tests. */
  sleep?(ms: number, signal?: AbortSignal): Promise<void>;
}

const FILTER_FIELD: Record<GoogleHealthDataType, { field: string; kind: 'time' | 'date' }> = {
  'heart-rate': { field: 'heart_rate.sample_time.physical_time', kind: 'time' },
  steps: { field: 'steps.interval.start_time', kind: 'time' },
  sleep: { field: 'sleep.interval.start_time', kind: 'time' },
  weight: { field: 'weight.sample_time.physical_time', kind: 'time' },
  'daily-resting-heart-rate': { field: 'daily_resting_heart_rate.date', kind: 'date' },
};

/** The AIP-160 filter selecting points at or after `since` (an RFC 3339 instant). */
export function filterFor(type: GoogleHealthDataType, since: string): string {
  const f = FILTER_FIELD[type];
  const value = f.kind === 'date' ? since.slice(0, 10) : since;
  return `${f.field} >= "${value}"`;
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new GoogleHealthError('aborted', null, 'The sync was cancelled.'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new GoogleHealthError('aborted', null, 'The sync was cancelled.'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A short, token-free description of an API error body. */
async function describe(res: Response, token: string): Promise<string> {
  let detail = '';
  try {
    const body = JSON.parse(new TextDecoder().decode(await readCapped(res, 64 * 1024, 'oversized error body'))) as {
      error?: { status?: string; message?: string };
    };
    detail = [body.error?.status, body.error?.message].filter(Boolean).join(': ');
  } catch {
    /* a non-JSON error body says nothing useful */
  }
  // Defence in depth: an echoing proxy must not leak the bearer token into logs.
  return scrubProviderText(detail, [token]);
}

/** A 200's body as a page; the provider's text never goes into the error. */
async function readPage(res: Response, type: GoogleHealthDataType): Promise<ListDataPointsResponse> {
  let bytes: Uint8Array;
  try {
    bytes = await readCapped(res, MAX_GOOGLE_HEALTH_RESPONSE_BYTES, `Google Health sent an oversized page of ${type}; it was not read.`);
  } catch (err) {
    if (err instanceof OversizedResponseError) throw new GoogleHealthError('bad_response', res.status, err.message);
    throw new GoogleHealthError('network', null, 'Google Health stopped answering mid-response.');
  }
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    body = undefined;
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new GoogleHealthError(
      'bad_response',
      res.status,
      `Google Health answered ${type} with something that is not a data page. The next sync will try again.`,
    );
  }
  return body as ListDataPointsResponse;
}

/**
 * GET one page of data points. Retries 429 (honouring Retry-After, capped) and 5xx with
 * bounded exponential back-off; 401 means the access token must be refreshed by the caller.
 */
export async function fetchDataPointsPage(
  accessToken: string,
  type: GoogleHealthDataType,
  params: { filter?: string; pageToken?: string },
  opts: GoogleHealthClientOptions = {},
): Promise<ListDataPointsResponse> {
  const base = (opts.baseUrl ?? GOOGLE_HEALTH_BASE_URL).replace(/\/+$/, '');
  const url = new URL(`${base}/v4/users/me/dataTypes/${type}/dataPoints`);
  if (params.filter) url.searchParams.set('filter', params.filter);
  if (params.pageToken) url.searchParams.set('pageToken', params.pageToken);
  if (opts.pageSize) url.searchParams.set('pageSize', String(opts.pageSize));
  const doFetch = opts.fetch ?? fetch;
  const sleep = opts.sleep ?? defaultSleep;
  const maxRetries = opts.maxRetries ?? 5;
  const maxDelay = opts.maxRetryDelayMs ?? 60_000;
  const baseDelay = opts.baseRetryDelayMs ?? 1_000;

  const timeoutMs = opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  let timeouts = 0;
  for (let attempt = 0; ; attempt++) {
    if (opts.signal?.aborted) throw new GoogleHealthError('aborted', null, 'The sync was cancelled.');
    // A server that takes the connection and never answers would hold the sync (and its
    // connection's "Sync now") for as long as undici waits: minutes per request, per retry.
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
    let res: Response;
    try {
      res = await doFetch(url, {
        headers: { Authorization: `Bearer ${accessToken}`, Accept: 'application/json' },
        // Never follow a redirect: it would carry the bearer token past the configured origin
        // (and past the endpoint guard), e.g. to 127.0.0.1.
        redirect: 'manual',
        signal,
      });
      if (res.ok) return await readPage(res, type);
    } catch (err) {
      if (opts.signal?.aborted) throw new GoogleHealthError('aborted', null, 'The sync was cancelled.');
      if (err instanceof GoogleHealthError) throw err;
      if (deadline.aborted && ++timeouts > 1) {
        throw new GoogleHealthError('network', null, `Google Health did not answer within ${Math.round(timeoutMs / 1000)} s, twice.`);
      }
      if (attempt < maxRetries) {
        await sleep(Math.min(maxDelay, baseDelay * 2 ** attempt), opts.signal);
        continue;
      }
      throw new GoogleHealthError('network', null, `Google Health could not be reached (${(err as Error).name}).`);
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel().catch(() => {});
      throw new GoogleHealthError('bad_request', res.status, `Google Health answered ${res.status} (a redirect) for ${type}; it was not followed.`);
    }
    const retryable = res.status === 429 || res.status >= 500;
    const hinted = retryable ? parseRetryAfter(res.headers.get('retry-after')) : null;
    if (hinted !== null && hinted > maxDelay) {
      // Asked to wait longer than a sync waits: trying sooner only earns another refusal.
      await res.body?.cancel().catch(() => {});
      throw new GoogleHealthError('rate_limited', res.status, `Google Health asked this app to wait before reading ${type} again.`, {
        retryAt: retryAtAfter(hinted),
      });
    }
    if (retryable && attempt < maxRetries) {
      const backoff = baseDelay * 2 ** attempt * (1 + Math.random() * 0.2);
      await res.body?.cancel().catch(() => {});
      await sleep(Math.min(maxDelay, hinted ?? backoff), opts.signal);
      continue;
    }
    const detail = await describe(res, accessToken);
    const suffix = detail ? ` (${detail})` : '';
    switch (res.status) {
      case 401:
        throw new GoogleHealthError('unauthorized', 401, `Google Health refused the access token; reconnect or refresh it${suffix}.`);
      case 403:
        throw new GoogleHealthError('forbidden', 403, `Google Health denied access to ${type}; the permission may not have been granted${suffix}.`);
      case 410:
        throw new GoogleHealthError('gone', 410, `This Google Health endpoint is no longer available${suffix}.`);
      case 429:
        throw new GoogleHealthError(
          'rate_limited',
          429,
          `Google Health kept rate-limiting requests for ${type} after ${maxRetries} retries; try again later.`,
          { ...(hinted !== null ? { retryAt: retryAtAfter(hinted) } : {}) },
        );
      default:
        throw new GoogleHealthError(res.status >= 500 ? 'server' : 'bad_request', res.status, `Google Health answered ${res.status} for ${type}${suffix}.`);
    }
  }
}
