import { afterEach, describe, expect, it, vi } from 'vitest';
import { ModelTimeoutError } from '../../sandbox/errors.js';
import type { Lease, SandboxPool } from '../../sandbox/pool.js';
import { startStuckOllama, type StuckOllama } from '../../test-support/sandbox/stuck-ollama.js';
import { PoolEmbedder } from './embedder.js';
import { TurnLease } from './turn-lease.js';

let stuck: StuckOllama | undefined;
afterEach(async () => {
  await stuck?.close();
  stuck = undefined;
});

describe('PoolEmbedder on a chat turn’s lease', () => {
  it('gives the sandbox back as failed when the model is silent past its deadline, so the answer does not wait on it again', async () => {
    stuck = await startStuckOllama();
    const lease = {
      id: 'l1',
      userId: 'u1',
      baseUrl: stuck.url,
      instanceId: 'c1',
      deadlines: { firstTokenMs: 200, idleMs: 200 },
      release: vi.fn<Lease['release']>(),
    } satisfies Lease;
    const turn = new TurnLease(async () => lease);
    // The turn's lease is the only one used: the pool is never asked.
    const embedder = new PoolEmbedder({} as SandboxPool, () => 'nomic-embed-text');

    // Bounds the wait without a deadline, so its absence fails rather than hangs.
    const err = await embedder.embed('u1', ['any heart rhythm problems?'], AbortSignal.timeout(10_000), turn).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelTimeoutError);
    await expect(turn.handOn()).rejects.toBe(err);
    expect(lease.release).toHaveBeenCalledTimes(1);
    expect(lease.release).toHaveBeenCalledWith({ error: true });
  });
});
