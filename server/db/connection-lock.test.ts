import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ConnectionLock } from './connection-lock.js';

/** Far above what the short holds here take, so that none of them counts as a turn's worth. */
const TURN = 50;

/** Holds the lock for about `ms` of this thread's time, as a PGlite statement does. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('ConnectionLock', () => {
  it('hands the connection to waiters in the order they came, and frees it after the last', async () => {
    const lock = new ConnectionLock();
    const order: string[] = [];
    await lock.lock();
    const waiters = ['b', 'c', 'd'].map(async (name) => {
      await lock.lock();
      order.push(name);
      lock.unlock();
    });
    expect(lock.stats()).toEqual({ inUse: 1, waiting: 3 });
    lock.unlock();
    await Promise.all(waiters);
    expect(order).toEqual(['b', 'c', 'd']);
    expect(lock.stats()).toEqual({ inUse: 0, waiting: 0 });
  });

  it('lets the event loop turn before a caller takes a connection held for a turn’s worth', async () => {
    const lock = new ConnectionLock(TURN);
    const order: string[] = [];
    // An I/O callback's stand-in: what Node runs when the loop turns (a socket read, an accept).
    const turned = () =>
      new Promise<void>((resolve) =>
        setImmediate(() => {
          order.push('turn');
          resolve();
        }),
      );

    // Short holds: handed on within the turn.
    await lock.lock();
    const short = turned();
    const quick = lock.lock().then(() => order.push('quick'));
    lock.unlock();
    await quick;
    expect(order).toEqual(['quick']);
    lock.unlock();
    await short;

    // A hold past the turn: the next caller waits for the loop to turn, still holding the lock.
    order.length = 0;
    await lock.lock();
    busy(TURN + 10);
    const io = turned();
    const next = lock.lock().then(() => order.push('next'));
    lock.unlock();
    await nextTurn(); // the handover is under way: the lock stays held through it
    expect(lock.stats().inUse).toBe(1);
    await Promise.all([io, next]);
    expect(order).toEqual(['turn', 'next']);
    lock.unlock();

    // Counted from that turn: a caller that finds it free is not held back.
    order.length = 0;
    const later = turned();
    await lock.lock();
    order.push('free');
    lock.unlock();
    await later;
    expect(order).toEqual(['free', 'turn']);
  });

  it('holds back a caller that finds the connection free, once it was held a turn’s worth in all', async () => {
    const lock = new ConnectionLock(TURN);
    for (let i = 0; i < 2; i++) {
      await lock.lock();
      busy(TURN / 2 + 5);
      lock.unlock();
    }
    const order: string[] = [];
    const io = new Promise<void>((resolve) => setImmediate(() => resolve(void order.push('turn'))));
    await lock.lock();
    order.push('took');
    expect(lock.stats().inUse).toBe(1);
    lock.unlock();
    await io;
    expect(order).toEqual(['turn', 'took']);
  });
});
