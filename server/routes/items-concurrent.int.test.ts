import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';

// Concurrent creates of one user share statements (services/group-commit.ts): every answered
// create must be stored whole, with its search terms and tags, and none twice.
describe.each(dbTargets())('concurrent item creates (%s)', (target) => {
  let sut: TestServer;
  beforeAll(async () => {
    sut = await startTestServer(target);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  it('stores every acknowledged create once, searchable and tagged, across two users at once', async () => {
    const [ann, bob] = [await signUp(sut.app), await signUp(sut.app)];
    const post = (user: typeof ann, n: number) =>
      sut.app.inject({
        method: 'POST',
        url: '/api/items',
        headers: user.headers,
        payload: { title: `note ${n}`, text: `word${n} shared${user === ann ? 'ann' : 'bob'}`, tags: [`t${n % 3}`, 'common'] },
      });
    const answers = await Promise.all([...Array(24).keys()].flatMap((n) => [post(ann, n), post(bob, n)]));
    expect(answers.map((a) => a.statusCode)).toEqual(answers.map(() => 201));
    for (const [user, name] of [
      [ann, 'ann'],
      [bob, 'bob'],
    ] as const) {
      const list = (await sut.app.inject({ method: 'GET', url: '/api/items?limit=100', headers: user.headers })).json() as {
        items: Array<{ id: string; title: string; tags: string[] }>;
      };
      expect(list.items.map((i) => i.title).sort()).toEqual([...Array(24).keys()].map((n) => `note ${n}`).sort());
      expect(new Set(list.items.map((i) => i.id)).size).toBe(24);
      for (const item of list.items) expect(item.tags.sort()).toEqual(['common', `t${Number(item.title.slice(5)) % 3}`].sort());
      const shared = (await sut.app.inject({ method: 'GET', url: `/api/search?q=shared${name}&limit=50`, headers: user.headers })).json() as {
        results: unknown[];
      };
      expect(shared.results).toHaveLength(24);
      const one = (await sut.app.inject({ method: 'GET', url: '/api/search?q=word7', headers: user.headers })).json() as { results: Array<{ title?: string }> };
      expect(one.results).toHaveLength(1);
      const tagged = (await sut.app.inject({ method: 'GET', url: '/api/items?tag=t1&limit=100', headers: user.headers })).json() as { items: unknown[] };
      expect(tagged.items).toHaveLength(8);
    }
  });
});
