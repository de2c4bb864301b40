import { monitorEventLoopDelay } from 'node:perf_hooks';
import { expect } from 'vitest';

/**
 * Measures the event loop's longest stall while `work` runs: Node's own delay histogram at
 * 10 ms resolution (a timer that fires late by the stall). Returns the work's result, the stall
 * and how long the work took, in milliseconds.
 */
export async function longestStall<T>(work: () => Promise<T>): Promise<{ result: T; stallMs: number; elapsedMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  // Node records a delay only from the timer's second tick on: let it tick once first, or a
  // stall that starts at once would go unrecorded.
  await new Promise((r) => setTimeout(r, 30));
  const start = performance.now();
  try {
    const result = await work();
    const elapsedMs = performance.now() - start;
    // One more turn so a stall right at the end is recorded too.
    await new Promise((r) => setTimeout(r, 30));
    return { result, stallMs: h.max / 1e6, elapsedMs };
  } finally {
    h.disable();
  }
}

/**
 * The loop must stay free while a key is derived: under 100 ms on a quiet machine. On a loaded
 * CI box (many processes on two cores) a thread can wait its turn for a while whatever it runs,
 * so the bound stretches to a quarter of the work's own duration; a derivation on the event
 * loop stalls it for the whole duration and fails either way.
 */
export function expectLoopStayedFree(m: { stallMs: number; elapsedMs: number }): void {
  expect(m.stallMs, `stalled ${m.stallMs.toFixed(0)} ms during ${m.elapsedMs.toFixed(0)} ms of work`).toBeLessThan(Math.max(100, m.elapsedMs / 4));
}
