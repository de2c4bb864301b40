import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';

type Result = { item: { id: string; title: string; kind: string; source: string }; score: number; snippet: string };

/**
 * `/api/search` with snippets and the item list's filters, over HTTP: every filter is checked
 * against the same words in items that differ only in what the filter looks at.
 */
describe.each(dbTargets())('search that explains itself (%s)', (target) => {
  let sut: TestServer;
  let user: Awaited<ReturnType<typeof signUp>>;
  const inject = (o: InjectOptions) => sut.app.inject(o);
  const ids: Record<string, string> = {};
  let parent = '';
  let child = '';
  const search = async (query: string) => {
    const r = await inject({ method: 'GET', url: `/api/search?${query}`, headers: user.headers });
    expect(r.statusCode, r.body).toBe(200);
    return r.json().results as Result[];
  };
  const found = async (query: string) => (await search(query)).map((r) => r.item.title).sort();
  const note = async (title: string, text: string, extra: Record<string, unknown> = {}) => {
    const r = await inject({ method: 'POST', url: '/api/items', headers: user.headers, payload: { title, text, ...extra } });
    expect(r.statusCode, r.body).toBe(201);
    ids[title] = r.json().id;
  };
  const file = async (title: string, folderId?: string) => {
    const up = await inject({
      method: 'POST',
      url: '/api/files',
      ...multipart({ name: `${title}.txt`, type: 'text/plain', data: Buffer.from(`Scanned ${title} about a thyroid ultrasound.\n`) }, {}, user.headers),
    });
    expect(up.statusCode, up.body).toBe(201);
    ids[title] = up.json().id;
    if (folderId) await fileIn(title, folderId);
  };
  const fileIn = async (title: string, folderId: string) => {
    const r = await inject({ method: 'PATCH', url: `/api/items/${ids[title]}`, headers: user.headers, payload: { folderId } });
    expect(r.statusCode, r.body).toBe(200);
  };
  const folder = async (name: string, parentId?: string) => {
    const r = await inject({ method: 'POST', url: '/api/folders', headers: user.headers, payload: { name, parentId } });
    expect(r.statusCode, r.body).toBe(201);
    return r.json().id as string;
  };

  beforeAll(async () => {
    sut = await startTestServer(target);
    user = await signUp(sut.app);
    parent = await folder('Clinic');
    child = await folder('Letters', parent);
    await note('March visit', 'The thyroid ultrasound showed a small nodule. Follow-up in **six** months.', { tags: ['endocrine'], occurredAt: '2024-03-10' });
    await note('June visit', 'Thyroid tests normal; ultrasound not repeated.', { occurredAt: '2024-06-20' });
    await note('Unrelated', 'Bought running shoes.', { occurredAt: '2024-05-01' });
    await fileIn('March visit', parent);
    await file('letter', child);
    await file('loose scan');
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  it('marks the matched words in a snippet made from the decrypted text', async () => {
    const results = await search('q=thyroid%20ultrasounds');
    const march = results.find((r) => r.item.id === ids['March visit'])!;
    expect(march.snippet).toBe('The **thyroid** **ultrasound** showed a small nodule. Follow-up in six months.');
    for (const r of results) expect(r.snippet).toMatch(/\*\*[Tt]hyroid\*\*/);
    // Never stored: nothing of a snippet is in the database.
    expect(await sut.dumpDatabase()).not.toContain('**thyroid**');
  });

  it('filters by kind and source like the item list', async () => {
    expect(await found('q=thyroid&kind=note')).toEqual(['June visit', 'March visit']);
    expect(await found('q=thyroid&kind=document')).toEqual(['letter', 'loose scan']);
    expect(await found('q=thyroid&source=upload')).toEqual(['letter', 'loose scan']);
    expect(await found('q=thyroid&source=manual')).toEqual(['June visit', 'March visit']);
    expect(await found('q=thyroid&source=fitbit')).toEqual([]);
  });

  it('filters by tag, case-insensitively', async () => {
    expect(await found('q=thyroid&tag=Endocrine')).toEqual(['March visit']);
    expect(await found('q=thyroid&tag=nothing')).toEqual([]);
  });

  it('filters by folder: one folder, its subtree, or no folder', async () => {
    expect(await found(`q=thyroid&folderId=${parent}`)).toEqual(['March visit']);
    expect(await found(`q=thyroid&folderId=${parent}&recursive=true`)).toEqual(['March visit', 'letter']);
    expect(await found(`q=thyroid&folderId=${child}`)).toEqual(['letter']);
    expect(await found('q=thyroid&folderId=none')).toEqual(['June visit', 'loose scan']);
  });

  it('filters by date, a bare `to` date meaning through that day', async () => {
    expect(await found('q=thyroid&kind=note&from=2024-03-01&to=2024-03-10')).toEqual(['March visit']);
    expect(await found('q=thyroid&kind=note&from=2024-04-01')).toEqual(['June visit']);
    expect(await found('q=thyroid&kind=note&to=2024-06-19')).toEqual(['March visit']);
  });

  it('answers bad filters with an error, not a stack trace', async () => {
    const unknownFolder = await inject({ method: 'GET', url: '/api/search?q=thyroid&folderId=00000000-0000-4000-8000-000000000000', headers: user.headers });
    expect(unknownFolder.statusCode).toBe(404);
    expect(unknownFolder.json().error.code).toEqual(expect.any(String));
    for (const bad of ['kind=spaceship', 'from=yesterday-ish', 'folderId=12', 'source=myspace']) {
      const r = await inject({ method: 'GET', url: `/api/search?q=thyroid&${bad}`, headers: user.headers });
      expect(r.statusCode, bad).toBe(400);
      expect(r.json().error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
      expect(r.body).not.toContain(' at ');
    }
  });

  it("does not reach another user's folders", async () => {
    const other = await signUp(sut.app);
    const r = await inject({ method: 'GET', url: `/api/search?q=thyroid&folderId=${parent}`, headers: other.headers });
    expect(r.statusCode).toBe(404);
  });
});
