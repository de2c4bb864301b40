import { diff3Merge, diffComm } from 'node-diff3';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../../test-support/server/harness.js';

// The LCS calls are watched, to check which comparisons were run at all (not how long they took).
vi.mock('node-diff3', async (importOriginal) => {
  const lib = await importOriginal<typeof import('node-diff3')>();
  return { ...lib, diff3Merge: vi.fn(lib.diff3Merge), diffComm: vi.fn(lib.diffComm) };
});

interface Item {
  id: string;
  text: string;
  version: number;
}

describe.each(dbTargets())('history: merge and diff of large notes, restore without a body (%s)', (target) => {
  let sut: TestServer;
  beforeAll(async () => {
    sut = await startTestServer(target);
  });
  afterAll(async () => {
    await sut?.dispose();
  });
  beforeEach(() => vi.clearAllMocks());

  const inject = (opts: InjectOptions) => sut.app.inject(opts);

  it('answers a stale merge and a diff of a note of 10,000 repeated lines without running the LCS over it', async () => {
    const u = await signUp(sut.app);
    const lines = Array.from({ length: 10_000 }, (_, i) => String(i % 10));
    const created = await inject({ method: 'POST', url: '/api/items', headers: u.headers, payload: { title: 'big', text: lines.join('\n') } });
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json() as Item;
    const reversed = [...lines].reverse().join('\n');
    const v2 = await inject({ method: 'PATCH', url: `/api/items/${id}`, headers: u.headers, payload: { text: reversed, baseVersion: 1 } });
    expect(v2.statusCode, v2.body).toBe(200);

    // Every other line changed on top of version 1: too costly to merge line by line, so a conflict
    // with the current version for the person to merge side by side.
    const mine = lines.map((l, i) => (i % 2 ? `${l}x` : l)).join('\n');
    const merge = await inject({ method: 'PATCH', url: `/api/items/${id}`, headers: u.headers, payload: { text: mine, baseVersion: 1, merge: true } });
    expect(merge.statusCode, merge.body).toBe(409);
    expect(merge.json()).toMatchObject({ error: { code: 'version_conflict' }, current: { id, version: 2, text: reversed } });
    expect(diff3Merge).not.toHaveBeenCalled();

    const diff = await inject({ method: 'GET', url: `/api/items/${id}/versions/1/diff`, headers: u.headers });
    expect(diff.statusCode, diff.body).toBe(200);
    expect(diff.json()).toMatchObject({
      from: 1,
      to: 2,
      text: [
        { op: 'removed', lines },
        { op: 'added', lines: [...lines].reverse() },
      ],
    });
    expect(diffComm).not.toHaveBeenCalled();
  });

  it('restores a version from a POST with no body, as with {}', async () => {
    const u = await signUp(sut.app);
    const created = await inject({ method: 'POST', url: '/api/items', headers: u.headers, payload: { title: 't', text: 'v1' } });
    const { id } = created.json() as Item;
    expect((await inject({ method: 'PATCH', url: `/api/items/${id}`, headers: u.headers, payload: { text: 'v2' } })).statusCode).toBe(200);

    const bare = await inject({ method: 'POST', url: `/api/items/${id}/versions/1/restore`, headers: u.headers });
    expect(bare.statusCode, bare.body).toBe(200);
    expect(bare.json()).toMatchObject({ id, version: 3, text: 'v1' });
    const empty = await inject({ method: 'POST', url: `/api/items/${id}/versions/2/restore`, headers: u.headers, payload: {} });
    expect(empty.statusCode, empty.body).toBe(200);
    expect(empty.json()).toMatchObject({ id, version: 4, text: 'v2' });
    // A stale base still conflicts.
    const stale = await inject({ method: 'POST', url: `/api/items/${id}/versions/1/restore`, headers: u.headers, payload: { baseVersion: 2 } });
    expect(stale.statusCode).toBe(409);
  });
});
