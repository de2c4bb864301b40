import { afterEach, describe, expect, it } from 'vitest';
import type { QuantitySample, RecordInput } from '../types.js';
import { fetchDataPointsPage, GoogleHealthError, normalizeDataPoint, parseRetryAfter, syncDataType, syncGoogleHealth, type DataPoint } from './client.js';
import { startFakeGoogleHealthServer, type FakeGoogleHealthServer } from '../../test-support/integrations/google-health/fake-server.js';

const TOKEN = 'ya29.test-token-SECRET';
let server: FakeGoogleHealthServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

const device = { dataSource: { platform: 'FITBIT', device: { displayName: 'Pixel Watch 3' } } };

function hr(iso: string, bpm: number, offset = '-18000s'): DataPoint {
  return {
    name: `users/me/dataTypes/heart-rate/dataPoints/${iso}`,
    ...device,
    heartRate: { sampleTime: { physicalTime: iso, utcOffset: offset }, beatsPerMinute: String(bpm) },
  };
}

function collector(): { samples: QuantitySample[]; records: RecordInput[]; sink: { samples(b: QuantitySample[]): void; records(b: RecordInput[]): void } } {
  const samples: QuantitySample[] = [];
  const records: RecordInput[] = [];
  return { samples, records, sink: { samples: (b) => void samples.push(...b), records: (b) => void records.push(...b) } };
}

const noWait = { sleep: async () => {} };

describe('Google Health client against the fake server', () => {
  it('pages with pageToken until the end and normalises heart rate', async () => {
    const points = Array.from({ length: 7 }, (_, i) => hr(`2026-06-01T0${i}:00:00Z`, 60 + i));
    server = await startFakeGoogleHealthServer({ accessToken: TOKEN, dataPoints: { 'heart-rate': points } });
    const c = collector();
    const r = await syncDataType(TOKEN, 'heart-rate', undefined, c.sink, { baseUrl: server.url, pageSize: 3, initialSince: '2026-05-01T00:00:00Z' });
    expect(r.pages).toBe(3);
    expect(r.samples).toBe(7);
    expect(server.requests.map((q) => q.pageToken === null)).toEqual([true, false, false]);
    expect(server.requests[0]!.filter).toBe('heart_rate.sample_time.physical_time >= "2026-05-01T00:00:00.000Z"');
    // 03:00Z at UTC-5 is 22:00 on the previous local day.
    expect(c.samples[3]).toEqual({
      type: 'HKQuantityTypeIdentifierHeartRate',
      unit: '/min',
      startMs: Date.UTC(2026, 5, 1, 3),
      endMs: Date.UTC(2026, 5, 1, 3),
      localDate: '2026-05-31',
      value: 63,
      sourceName: 'Pixel Watch 3',
    });
    expect(c.samples[5]!.localDate).toBe('2026-06-01');
    expect(r.cursor).toBe('2026-06-01T06:00:00.000Z');
  });

  it('returns a cursor so the next sync only reads newer points', async () => {
    server = await startFakeGoogleHealthServer({
      accessToken: TOKEN,
      dataPoints: {
        steps: [
          { ...device, steps: { interval: { startTime: '2026-06-01T10:00:00Z', endTime: '2026-06-01T10:01:00Z', startUtcOffset: '7200s' }, count: '80' } },
        ],
      },
    });
    const c = collector();
    const first = await syncGoogleHealth(TOKEN, {}, c.sink, { baseUrl: server.url, types: ['steps'], initialSince: '2026-01-01T00:00:00Z', lookbackMs: 0 });
    expect(first.cursors.steps).toBe('2026-06-01T10:01:00.000Z');
    expect(first.counts['HKQuantityTypeIdentifierStepCount']).toBe(1);
    server.addDataPoints('steps', [
      { ...device, steps: { interval: { startTime: '2026-06-01T10:01:00Z', endTime: '2026-06-01T10:02:00Z', startUtcOffset: '7200s' }, count: '90' } },
    ]);
    const second = await syncGoogleHealth(TOKEN, first.cursors, c.sink, { baseUrl: server.url, types: ['steps'], lookbackMs: 0 });
    expect(server.requests.at(-1)!.filter).toBe('steps.interval.start_time >= "2026-06-01T10:01:00.000Z"');
    expect(second.counts['HKQuantityTypeIdentifierStepCount']).toBe(1);
    expect(second.cursors.steps).toBe('2026-06-01T10:02:00.000Z');
    expect(c.samples.map((s) => [s.value, s.localDate, s.endMs - s.startMs])).toEqual([
      [80, '2026-06-01', 60_000],
      [90, '2026-06-01', 60_000],
    ]);
    // Nothing new: the cursor stays put; the default look-back re-reads a day behind it.
    const third = await syncGoogleHealth(TOKEN, second.cursors, c.sink, { baseUrl: server.url, types: ['steps'] });
    expect(third.cursors.steps).toBe('2026-06-01T10:02:00.000Z');
    expect(server.requests.at(-1)!.filter).toBe('steps.interval.start_time >= "2026-05-31T10:02:00.000Z"');
  });

  it('backs off on 429 honouring Retry-After, with bounded retries', async () => {
    server = await startFakeGoogleHealthServer({ accessToken: TOKEN, dataPoints: { 'heart-rate': [hr('2026-06-01T00:00:00Z', 60)] } });
    server.rateLimit(2, 3);
    const waits: number[] = [];
    const sleep = async (ms: number): Promise<void> => void waits.push(ms);
    const page = await fetchDataPointsPage(TOKEN, 'heart-rate', {}, { baseUrl: server.url, sleep });
    expect(page.dataPoints).toHaveLength(1);
    expect(waits).toEqual([3000, 3000]);
    expect(server.requests.map((r) => r.status)).toEqual([429, 429, 200]);

    // Always limited: gives up after maxRetries, with a typed error.
    server.rateLimit(100, 3);
    waits.length = 0;
    const err = await fetchDataPointsPage(TOKEN, 'heart-rate', {}, { baseUrl: server.url, sleep, maxRetries: 2, maxRetryDelayMs: 10_000 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GoogleHealthError);
    expect(err).toMatchObject({ code: 'rate_limited', status: 429 });
    expect(waits).toEqual([3000, 3000]);
  });

  it('does not retry sooner than a Retry-After beyond its wait cap: fails at once with when to try again', async () => {
    server = await startFakeGoogleHealthServer({ accessToken: TOKEN, dataPoints: { 'heart-rate': [hr('2026-06-01T00:00:00Z', 60)] } });
    const waits: number[] = [];
    const sleep = async (ms: number): Promise<void> => void waits.push(ms);
    const at = new Date(Math.ceil((Date.now() + 600_000) / 1000) * 1000);
    for (const retryAfter of [120, at.toUTCString()]) {
      server.rateLimit(100, retryAfter);
      const before = server.requests.length;
      const asked = Date.now();
      const err = (await fetchDataPointsPage(TOKEN, 'heart-rate', {}, { baseUrl: server.url, sleep, maxRetryDelayMs: 60_000 }).catch(
        (e: unknown) => e,
      )) as GoogleHealthError;
      expect(err).toMatchObject({ code: 'rate_limited', status: 429 });
      expect(server.requests.length - before, String(retryAfter)).toBe(1);
      const expected = typeof retryAfter === 'number' ? asked + retryAfter * 1000 : at.getTime();
      expect(err.retryAt!.getTime(), String(retryAfter)).toBeGreaterThanOrEqual(expected - 1000);
      expect(err.retryAt!.getTime(), String(retryAfter)).toBeLessThanOrEqual(Date.now() + (expected - asked));
    }
    expect(waits).toEqual([]);
  });

  it('backs off exponentially when 429 has no Retry-After, and retries 503', async () => {
    server = await startFakeGoogleHealthServer({ accessToken: TOKEN, dataPoints: { weight: [] } });
    server.rateLimit(1, null);
    const waits: number[] = [];
    const sleep = async (ms: number): Promise<void> => void waits.push(ms);
    await fetchDataPointsPage(TOKEN, 'weight', {}, { baseUrl: server.url, sleep, baseRetryDelayMs: 100 });
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(100);
    expect(waits[0]).toBeLessThanOrEqual(120);
    server.failNext(1, 503);
    await fetchDataPointsPage(TOKEN, 'weight', {}, { baseUrl: server.url, sleep, baseRetryDelayMs: 100 });
    expect(server.requests.at(-2)!.status).toBe(503);
  });

  it('gives up on a server that takes the request and never answers: one retry, then a network error', async () => {
    server = await startFakeGoogleHealthServer({ accessToken: TOKEN });
    server.misbehaviour = 'silent';
    try {
      const before = server.requests.length;
      const err = (await fetchDataPointsPage(TOKEN, 'heart-rate', {}, { baseUrl: server.url, ...noWait, requestTimeoutMs: 200 }).catch(
        (e: unknown) => e,
      )) as GoogleHealthError;
      expect(err).toBeInstanceOf(GoogleHealthError);
      expect(err.code).toBe('network');
      expect(err.message).toMatch(/did not answer within/);
      expect(server.requests.length - before).toBe(2);
    } finally {
      server.misbehaviour = null;
    }
  });

  it('answers 401 for a bad token, and never puts the token in the error', async () => {
    server = await startFakeGoogleHealthServer({ accessToken: 'the-right-one' });
    const err = (await fetchDataPointsPage(TOKEN, 'sleep', {}, { baseUrl: server.url, ...noWait }).catch((e: unknown) => e)) as GoogleHealthError;
    expect(err).toBeInstanceOf(GoogleHealthError);
    expect(err.code).toBe('unauthorized');
    expect(err.status).toBe(401);
    expect(`${err.message} ${err.stack} ${JSON.stringify(err)}`).not.toContain(TOKEN);
    expect(server.requests[0]!.authorized).toBe(false);
    expect(server.requests).toHaveLength(1); // no retry on 401
  });

  it('reports 410 Gone and skips data types without permission', async () => {
    server = await startFakeGoogleHealthServer({ accessToken: TOKEN });
    server.failNext(1, 410);
    await expect(fetchDataPointsPage(TOKEN, 'steps', {}, { baseUrl: server.url, ...noWait })).rejects.toMatchObject({ code: 'gone' });
    server.failNext(1, 403);
    const r = await syncGoogleHealth(TOKEN, {}, collector().sink, { baseUrl: server.url, types: ['weight', 'steps'], ...noWait });
    expect(Object.keys(r.skipped)).toEqual(['weight']);
  });

  it('refuses oversized or unreadable pages and repeating page tokens, and reports a data type cut off at the page cap', async () => {
    server = await startFakeGoogleHealthServer({ accessToken: TOKEN });
    const opts = { baseUrl: server.url, types: ['steps'] as const, ...noWait };
    for (const [mode, message] of [
      ['huge', /oversized page of steps/],
      ['malformed', /not a data page/],
      ['html', /not a data page/],
      ['repeat', /page token it had already sent/],
    ] as const) {
      server.misbehaviour = mode;
      const err = await syncGoogleHealth(TOKEN, {}, collector().sink, opts).catch((e: unknown) => e);
      expect(err, mode).toBeInstanceOf(GoogleHealthError);
      expect((err as GoogleHealthError).code, mode).toBe('bad_response');
      expect((err as GoogleHealthError).message, mode).toMatch(message);
      expect((err as GoogleHealthError).message, mode).not.toContain('CANARY');
    }
    server.misbehaviour = 'endless';
    const before = server.requests.length;
    const r = await syncGoogleHealth(TOKEN, { steps: '2026-06-01T00:00:00Z' }, collector().sink, { ...opts, maxPages: 3 });
    expect(server.requests.length - before).toBe(3);
    expect(r.incomplete).toEqual(['steps']);
    expect(r.skipped.steps).toMatch(/more than 3 pages of steps/);
    // The cursor stays where it was, so the unread rest is asked for again.
    expect(r.cursors.steps).toBe('2026-06-01T00:00:00Z');
  });

  it('normalises sleep, weight and daily resting heart rate', async () => {
    server = await startFakeGoogleHealthServer({
      accessToken: TOKEN,
      dataPoints: {
        sleep: [
          {
            name: 'users/me/dataTypes/sleep/dataPoints/s1',
            ...device,
            sleep: {
              interval: {
                startTime: '2026-06-02T03:30:00Z',
                startUtcOffset: '-14400s',
                endTime: '2026-06-02T10:45:00Z',
                endUtcOffset: '-14400s',
                civilStartTime: { date: { year: 2026, month: 6, day: 1 }, time: { hours: 23, minutes: 30 } },
              },
              summary: {
                minutesAsleep: '405',
                minutesAwake: '30',
                stagesSummary: [
                  { type: 'DEEP', minutes: '70' },
                  { type: 'REM', minutes: '95' },
                ],
              },
            },
          },
        ],
        weight: [
          { dataSource: { platform: 'FITBIT' }, weight: { sampleTime: { physicalTime: '2026-06-02T11:00:00Z', utcOffset: '-14400s' }, weightGrams: 81234.5 } },
        ],
        'daily-resting-heart-rate': [{ ...device, dailyRestingHeartRate: { date: { year: 2026, month: 6, day: 1 }, beatsPerMinute: '57' } }],
      },
    });
    const c = collector();
    const r = await syncGoogleHealth(TOKEN, {}, c.sink, {
      baseUrl: server.url,
      types: ['sleep', 'weight', 'daily-resting-heart-rate'],
      initialSince: '2026-05-01T00:00:00Z',
      timezone: 'America/New_York',
    });
    const sleep = c.samples.find((s) => s.type === 'HKCategoryTypeIdentifierSleepAnalysis')!;
    expect(sleep).toMatchObject({ unit: 'min', value: 405, localDate: '2026-06-01', sourceName: 'Pixel Watch 3' });
    expect(c.records).toHaveLength(1);
    expect(c.records[0]).toMatchObject({
      source: 'google_health',
      externalId: 'users/me/dataTypes/sleep/dataPoints/s1',
      title: 'Sleep 6 h 45 min (23:30–06:45)',
    });
    expect(c.records[0]!.text).toContain('Stages: deep 1 h 10 min, rem 1 h 35 min.');
    expect(c.samples.find((s) => s.type === 'HKQuantityTypeIdentifierBodyMass')).toMatchObject({
      value: 81.235,
      unit: 'kg',
      sourceName: 'Fitbit',
      localDate: '2026-06-02',
    });
    expect(c.samples.find((s) => s.type === 'HKQuantityTypeIdentifierRestingHeartRate')).toMatchObject({
      value: 57,
      localDate: '2026-06-01',
      startMs: Date.UTC(2026, 5, 1, 4),
    });
    expect(server.requests.find((q) => q.dataType === 'daily-resting-heart-rate')!.filter).toBe('daily_resting_heart_rate.date >= "2026-05-01"');
    expect(r.cursors['daily-resting-heart-rate']).toBe('2026-06-01T04:00:00.000Z');
  });
});

describe('helpers', () => {
  it('parses Retry-After seconds and dates', () => {
    expect(parseRetryAfter('7')).toBe(7000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeNull();
    expect(parseRetryAfter(null)).toBeNull();
  });

  it('drops unusable points', () => {
    expect(normalizeDataPoint('heart-rate', { heartRate: { beatsPerMinute: '60' } })).toEqual({ samples: [], records: [] });
    expect(normalizeDataPoint('steps', { steps: { interval: { startTime: '2026-01-01T00:00:00Z' }, count: '0' } }).samples).toHaveLength(0);
  });
});
