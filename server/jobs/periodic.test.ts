import { describe, expect, it, vi } from 'vitest';
import { startPeriodic } from './periodic.js';

describe('startPeriodic', () => {
  it('runs once before resolving, then on schedule, never overlapping, until stopped', async () => {
    let runs = 0;
    let concurrent = 0;
    let maxConcurrent = 0;
    const sut = await startPeriodic(
      async () => {
        runs++;
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        await new Promise((r) => setTimeout(r, 30));
        concurrent--;
      },
      5,
      () => {},
    );
    expect(runs).toBe(1);
    await vi.waitFor(() => expect(runs).toBeGreaterThanOrEqual(3), { timeout: 10_000 });
    await sut.stop();
    const after = runs;
    await new Promise((r) => setTimeout(r, 50));
    expect(runs).toBe(after);
    expect(maxConcurrent).toBe(1);
  });

  it('reports a failing run and keeps the schedule', async () => {
    const errors: unknown[] = [];
    let runs = 0;
    const sut = await startPeriodic(
      async () => {
        runs++;
        throw new Error(`boom ${runs}`);
      },
      5,
      (err) => errors.push(err),
    );
    await vi.waitFor(() => expect(runs).toBeGreaterThanOrEqual(2), { timeout: 10_000 });
    await sut.stop();
    expect(errors.length).toBe(runs);
  });
});
