import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scannedPdf, textPdf } from '../../test-support/server/extraction-fixtures.js';
import { dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';

interface Item {
  id: string;
  version: number;
  title: string;
  text: string;
  tags: string[];
  extraction?: { status: string; reason?: string };
}
interface Job {
  id: string;
  kind: string;
  status: string;
  progress: { done: number; total?: number; unit: string };
  error?: string;
}

const EDITED = "the text was edited while the file was read; Read again replaces it with the file's text";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(dbTargets())('what a file read ends with: edits kept, page limit, deleted items, SVG (%s)', (target) => {
  let sut: TestServer;
  let user: Awaited<ReturnType<typeof signUp>>;
  let dir: string;
  let calls: string;
  const inject = (o: InjectOptions) => sut.app.inject(o);

  beforeAll(async () => {
    // Tesseract behind a script that notes each page it is given and takes a moment first, so
    // a test can act while a page is being read and count the pages read.
    dir = await mkdtemp(path.join(tmpdir(), 'cv-ocr-calls-'));
    calls = path.join(dir, 'calls');
    await writeFile(calls, '');
    const tesseract = path.join(dir, 'tesseract');
    await writeFile(tesseract, `#!/bin/sh\necho page >> '${calls}'\nsleep 0.5\nexec /usr/bin/tesseract "$@"\n`);
    await chmod(tesseract, 0o755);
    sut = await startTestServer(target, { OCR_TESSERACT_PATH: tesseract, OCR_MAX_PAGES: '2' });
    user = await signUp(sut.app);
  });
  afterAll(async () => {
    await sut?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  const pagesRead = async () => (await readFile(calls, 'utf8')).split('\n').filter(Boolean).length;
  const upload = async (name: string, type: string, data: Buffer) => {
    const r = await inject({ method: 'POST', url: '/api/files', ...multipart({ name, type, data }, {}, user.headers) });
    expect(r.statusCode).toBe(201);
    return r.json() as Item;
  };
  const get = async (id: string) => (await inject({ method: 'GET', url: `/api/items/${id}`, headers: user.headers })).json() as Item;
  const settled = async (id: string) => {
    for (let item = await get(id); ; item = await get(id)) {
      if (item.extraction?.status !== 'pending') return item;
      await sleep(50);
    }
  };
  /** The latest extraction job, once no extraction job is queued or running. */
  const lastJob = async () => {
    for (;;) {
      const { jobs } = (await inject({ method: 'GET', url: '/api/jobs', headers: user.headers })).json() as { jobs: Job[] };
      const extracts = jobs.filter((j) => j.kind === 'extract');
      if (extracts.every((j) => j.status === 'done' || j.status === 'failed')) return extracts[0]!;
      await sleep(50);
    }
  };
  const search = async (q: string) =>
    (
      (await inject({ method: 'GET', url: `/api/search?q=${encodeURIComponent(q)}`, headers: user.headers })).json() as { results: Array<{ item: Item }> }
    ).results.map((r) => r.item.id);

  it('keeps text the person typed while OCR ran, says so, and "read again" replaces it on purpose', async () => {
    const scan = await upload('kidney.pdf', 'application/pdf', await scannedPdf([['Kidney clinic letter']]));
    expect(scan.extraction).toEqual({ status: 'pending' });
    const edit = await inject({
      method: 'PATCH',
      url: `/api/items/${scan.id}`,
      headers: user.headers,
      payload: { title: 'My renamed scan', text: 'User typed summary', tags: ['kidney'], baseVersion: scan.version },
    });
    expect(edit.statusCode).toBe(200);
    const kept = await settled(scan.id);
    expect(kept).toMatchObject({ title: 'My renamed scan', text: 'User typed summary', tags: ['kidney'], extraction: { status: 'ok', reason: EDITED } });
    // Only the status changed: an editor holding this version can still save.
    expect(kept.version).toBe((edit.json() as Item).version);

    const again = await inject({ method: 'POST', url: `/api/items/${scan.id}/extract`, headers: user.headers });
    expect(again.statusCode).toBe(202);
    expect((await lastJob()).status).toBe('done');
    const read = await get(scan.id);
    expect(read).toMatchObject({ title: 'My renamed scan', tags: ['kidney'], extraction: { status: 'ok' } });
    expect(read.extraction!.reason).toBeUndefined();
    expect(read.text).toMatch(/Kidney clinic letter/i);
  });

  it('says when OCR stopped at OCR_MAX_PAGES, keeps the pages read searchable, hyphenated words joined', async () => {
    const scan = await upload(
      'long.pdf',
      'application/pdf',
      await scannedPdf([['Chest film: no pneumo-', 'thorax seen'], ['Second page'], ['Zebrafish third page']]),
    );
    const done = await settled(scan.id);
    expect(done.extraction).toEqual({ status: 'ok', reason: 'only 2 of 3 pages were read (OCR_MAX_PAGES)' });
    expect(done.text.split('\f')).toHaveLength(3);
    expect(await search('pneumothorax')).toContain(scan.id);
    expect(await search('zebrafish')).not.toContain(scan.id);
    expect(await lastJob()).toMatchObject({ status: 'done', progress: { done: 2, total: 2, unit: 'pages' } });
  });

  it('stops reading at the next page once the item is deleted for good, and ends without an error', async () => {
    const before = await pagesRead();
    const scan = await upload('gone.pdf', 'application/pdf', await scannedPdf([['First page'], ['Second page']]));
    while ((await pagesRead()) === before) await sleep(20);
    expect((await inject({ method: 'DELETE', url: `/api/items/${scan.id}`, headers: user.headers })).statusCode).toBe(204);
    expect((await inject({ method: 'DELETE', url: `/api/trash/${scan.id}`, headers: user.headers })).statusCode).toBe(204);
    const job = await lastJob();
    expect(job.status).toBe('done');
    expect(job.error).toBeUndefined();
    expect(await pagesRead()).toBe(before + 1);
    expect((await inject({ method: 'GET', url: `/api/items/${scan.id}`, headers: user.headers })).statusCode).toBe(404);
  });

  it('joins words hyphenated across lines of a PDF text layer, so search finds them', async () => {
    const pdf = await upload(
      'hyphen.pdf',
      'application/pdf',
      await textPdf([['an uncompli-', 'cated appendectomy and pneumo-', 'thorax was excluded. Non-', 'Hodgkin lymphoma']]),
    );
    expect(pdf.text).toBe('an uncomplicated appendectomy and pneumothorax was excluded. Non-\nHodgkin lymphoma');
    expect(await search('uncomplicated')).toContain(pdf.id);
    expect(await search('pneumothorax')).toContain(pdf.id);
  });

  it('does not OCR an SVG: no text read, "unsupported type", no failed job', async () => {
    const jobsBefore = (await lastJob())?.id;
    const svg = await upload(
      'pic.svg',
      'image/svg+xml',
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 20"><text x="0" y="15">Hello</text></svg>'),
    );
    expect(svg.extraction).toEqual({ status: 'none', reason: 'unsupported type' });
    expect((await lastJob())?.id).toBe(jobsBefore);
  });

  it('titles an upload with its file name, trimmed', async () => {
    expect((await upload('  spaces  .txt', 'text/plain', Buffer.from('spaced name'))).title).toBe('spaces');
  });
});
