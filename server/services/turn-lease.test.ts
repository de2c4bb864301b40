import { describe, expect, it, vi } from 'vitest';
import type { Lease } from '../../sandbox/pool.js';
import { TurnLease } from './turn-lease.js';

function lease() {
  return {
    id: 'l1',
    userId: 'u1',
    baseUrl: 'http://sandbox',
    instanceId: 'c1',
    deadlines: { firstTokenMs: 1000, idleMs: 1000 },
    release: vi.fn<Lease['release']>(),
  } satisfies Lease;
}

describe('TurnLease', () => {
  it('takes one lease for every step that asks, and leaves its release to the answer once handed on', async () => {
    const l = lease();
    const acquire = vi.fn(async () => l);
    const turn = new TurnLease(acquire);
    expect(await turn.get()).toBe(l);
    expect(await turn.get()).toBe(l);
    expect(await turn.handOn()).toBe(l);
    turn.release();
    expect(acquire).toHaveBeenCalledTimes(1);
    expect(l.release).not.toHaveBeenCalled();
  });

  it('takes once: a take that failed (the pool timed out) is the answer’s error too, not a second wait', async () => {
    const acquire = vi.fn<() => Promise<Lease>>().mockRejectedValueOnce(new Error('pool_timeout')).mockResolvedValueOnce(lease());
    const turn = new TurnLease(acquire);
    await expect(turn.get()).rejects.toThrow('pool_timeout');
    await expect(turn.handOn()).rejects.toThrow('pool_timeout');
    expect(acquire).toHaveBeenCalledTimes(1);
  });

  it('gives back as failed a sandbox a step found stuck, and fails the answer with that error', async () => {
    const l = lease();
    const turn = new TurnLease(async () => l);
    await turn.get();
    turn.fail(new Error('silent model'));
    await expect(turn.handOn()).rejects.toThrow('silent model');
    turn.release();
    await Promise.resolve();
    expect(l.release).toHaveBeenCalledTimes(1);
    expect(l.release).toHaveBeenCalledWith({ error: true });
  });

  it('gives back a lease a step took when the turn fails before the answer, once, even one still being taken', async () => {
    const taken = lease();
    const turn = new TurnLease(async () => taken);
    await turn.get();
    turn.release();
    turn.release();
    await Promise.resolve();
    expect(taken.release).toHaveBeenCalledTimes(1);

    const late = lease();
    let grant!: (l: Lease) => void;
    const pending = new TurnLease(() => new Promise<Lease>((resolve) => (grant = resolve)));
    const asked = pending.get();
    pending.release();
    grant(late);
    await asked;
    await Promise.resolve();
    expect(late.release).toHaveBeenCalledTimes(1);

    // No step took one: nothing to give back, and nothing taken to do it.
    const acquire = vi.fn();
    new TurnLease(acquire).release();
    expect(acquire).not.toHaveBeenCalled();
  });
});
