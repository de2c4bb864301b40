import { describe, expect, it, vi } from 'vitest';
import type { Lease } from '../../sandbox/pool.js';
import { TurnLease } from './turn-lease.js';

function lease() {
  return { id: 'l1', userId: 'u1', baseUrl: 'http://sandbox', instanceId: 'c1', release: vi.fn<Lease['release']>() } satisfies Lease;
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

  it('tries again after a failed take, so the answer reports why there is no sandbox', async () => {
    const l = lease();
    const acquire = vi.fn<() => Promise<Lease>>().mockRejectedValueOnce(new Error('saturated')).mockResolvedValueOnce(l);
    const turn = new TurnLease(acquire);
    await expect(turn.get()).rejects.toThrow('saturated');
    expect(await turn.handOn()).toBe(l);
    expect(acquire).toHaveBeenCalledTimes(2);
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
