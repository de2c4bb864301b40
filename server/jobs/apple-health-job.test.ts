import { afterEach, describe, expect, it } from 'vitest';
import { AppleHealthWorkers, prepareWorkerBundle } from './apple-health-job.js';

describe('AppleHealthWorkers: import workers started while the upload streams in', () => {
  const pools: AppleHealthWorkers[] = [];
  const make = (ttlMs?: number) => {
    const p = new AppleHealthWorkers(ttlMs);
    pools.push(p);
    return p;
  };
  afterEach(() => pools.splice(0).forEach((p) => p.close()));

  it('hands the warm worker to its job once, for the same format only', async () => {
    const sut = make();
    sut.prewarm('job-1', 'xml');
    const w = sut.take('job-1', 'xml');
    expect(w).toBeDefined();
    expect(sut.take('job-1', 'xml')).toBeUndefined();
    await w!.terminate();

    sut.prewarm('job-2', 'zip');
    expect(sut.take('job-2', 'xml')).toBeUndefined(); // other heap limits: the job starts its own
  });

  it('stops a worker whose job never starts, after the ttl or when the upload is refused', async () => {
    const sut = make(50);
    sut.prewarm('late', 'xml');
    await new Promise((r) => setTimeout(r, 200));
    expect(sut.take('late', 'xml')).toBeUndefined();

    sut.prewarm('refused', 'xml');
    sut.discard('refused');
    expect(sut.take('refused', 'xml')).toBeUndefined();
  });

  it('runs the worker from a bundle, without the TypeScript loader', async () => {
    // The integration tests' imports then exercise the bundled worker, as the server runs it.
    expect(await prepareWorkerBundle()).toBe(true);
    const sut = make();
    sut.prewarm('job-5', 'xml');
    const w = sut.take('job-5', 'xml')!;
    const online = new Promise<void>((resolve, reject) => {
      w.once('online', resolve);
      w.once('error', reject);
    });
    await online;
    await w.terminate();
  });
});
