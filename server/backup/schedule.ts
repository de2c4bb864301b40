/** setTimeout's largest delay (2^31-1 ms, about 24.8 days); a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Waits `ms` (any length: a monthly schedule is 720 h, beyond one timer) or until `signal`
 * aborts. The timers are ref'd on purpose: between scheduled backups they are what keeps the
 * process alive.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const until = Date.now() + ms;
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const step = () => {
      const left = until - Date.now();
      if (left <= 0) return done();
      timer = setTimeout(step, Math.min(left, MAX_TIMER_MS));
    };
    signal?.addEventListener('abort', done, { once: true });
    step();
  });
}
