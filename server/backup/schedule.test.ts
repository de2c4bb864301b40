import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS, sleep } from './schedule.js';

const HOUR = 3_600_000;

describe('sleep between scheduled backups', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const settled = (p: Promise<void>) => {
    let done = false;
    void p.then(() => (done = true));
    return async () => {
      await vi.advanceTimersByTimeAsync(0);
      return done;
    };
  };

  it('waits a whole 720 h (monthly) interval, longer than one timer allows', async () => {
    const isDone = settled(sleep(720 * HOUR));
    await vi.advanceTimersByTimeAsync(MAX_TIMER_MS + 1);
    expect(await isDone()).toBe(false);
    await vi.advanceTimersByTimeAsync(720 * HOUR - MAX_TIMER_MS - 2);
    expect(await isDone()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await isDone()).toBe(true);
  });

  it('ends early when stopped (SIGTERM)', async () => {
    const stop = new AbortController();
    const isDone = settled(sleep(24 * HOUR, stop.signal));
    await vi.advanceTimersByTimeAsync(HOUR);
    expect(await isDone()).toBe(false);
    stop.abort();
    expect(await isDone()).toBe(true);
  });
});
