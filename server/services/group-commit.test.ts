import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit.js';

/** A write whose completion the test controls, recording what each call carried. */
function gatedWrites(fail: (entries: number[]) => boolean = () => false) {
  const calls: Array<{ key: string; entries: number[]; release: () => void }> = [];
  const write = (key: string, entries: number[]) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ key, entries, release: () => (fail(entries) ? reject(new Error(`bad ${entries.join(',')}`)) : resolve()) });
    });
  return { calls, write };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('GroupCommit', () => {
  it('writes a lone entry at once, and groups the entries that arrive while a write is in flight', async () => {
    const { calls, write } = gatedWrites();
    const group = new GroupCommit(write);
    const settled: number[] = [];
    const first = group.submit('u1', 1).then(() => settled.push(1));
    await tick();
    expect(calls.map((c) => c.entries)).toEqual([[1]]);
    const rest = [2, 3, 4].map((n) => group.submit('u1', n).then(() => settled.push(n)));
    const other = group.submit('u2', 9).then(() => settled.push(9));
    await tick();
    // Another key does not wait; the same key's entries wait for the write in flight.
    expect(calls.map((c) => [c.key, c.entries])).toEqual([
      ['u1', [1]],
      ['u2', [9]],
    ]);
    expect(settled).toEqual([]);
    calls[0]!.release();
    await first;
    await tick();
    expect(calls[2]).toMatchObject({ key: 'u1', entries: [2, 3, 4] });
    // Nobody is answered before the write holding their entry has finished.
    expect(settled).toEqual([1]);
    calls[2]!.release();
    calls[1]!.release();
    await Promise.all([...rest, other]);
    expect(settled.sort()).toEqual([1, 2, 3, 4, 9]);
  });

  it('retries a failed group one entry at a time, so only the bad entry fails', async () => {
    const { calls, write } = gatedWrites((entries) => entries.includes(3));
    const group = new GroupCommit(write);
    const first = group.submit('u', 1);
    await tick();
    const outcomes = [2, 3, 4].map((n) =>
      group.submit('u', n).then(
        () => 'ok',
        (e: Error) => e.message,
      ),
    );
    calls[0]!.release();
    await first;
    for (let i = 1; i < 5; i++) {
      await tick();
      calls[i]!.release();
    }
    expect(await Promise.all(outcomes)).toEqual(['ok', 'bad 3', 'ok']);
    expect(calls.map((c) => c.entries)).toEqual([[1], [2, 3, 4], [2], [3], [4]]);
  });

  it('caps a group at its size', async () => {
    const { calls, write } = gatedWrites();
    const group = new GroupCommit(write, 2);
    const all = [group.submit('u', 1)];
    await tick();
    all.push(...[2, 3, 4].map((n) => group.submit('u', n)));
    for (let i = 0; i < 3; i++) {
      calls[i]!.release();
      await tick();
      await tick();
    }
    await Promise.all(all);
    expect(calls.map((c) => c.entries)).toEqual([[1], [2, 3], [4]]);
  });
});
