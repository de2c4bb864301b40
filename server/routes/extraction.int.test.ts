import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../../test-support/sandbox/fake-ollama.js';
import { docx, eml, hugePagePdf, pngHeader, scannedPdf, textPng, xlsx } from '../../test-support/server/extraction-fixtures.js';
import { dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { nulPdf, piecesPdf } from '../../test-support/server/pdf-text-fixtures.js';

interface Item {
  id: string;
  version: number;
  text: string;
  title: string;
  fileId?: string;
  data?: Record<string, unknown>;
  extraction?: { status: string; reason?: string };
}
type User = Awaited<ReturnType<typeof signUp>>;

describe.each(dbTargets())('text extraction and OCR (%s)', (target) => {
  let fake: FakeOllama;
  let sut: TestServer;
  let user: User;
  let ocrDir: string;
  const inject = (o: InjectOptions) => sut.app.inject(o);

  beforeAll(async () => {
    fake = await startFakeOllama({ tokens: ['Noted', ' [1].'] });
    // The tesseract path is a link that does not exist yet: OCR is "not installed" until it does.
    ocrDir = await mkdtemp(path.join(tmpdir(), 'cv-ocr-'));
    sut = await startTestServer(target, {
      SANDBOX_RUNTIME: 'url',
      OLLAMA_URL: fake.url,
      OLLAMA_MODEL: 'test-model',
      EXTRACT_MAX_UNZIPPED_MB: '4',
      EXTRACT_MAX_HTML_DEPTH: '200',
    });
    user = await signUp(sut.app);
  });
  afterAll(async () => {
    await sut?.dispose();
    await fake?.close();
    await rm(ocrDir, { recursive: true, force: true });
  });

  const upload = async (name: string, type: string, data: Buffer, u: User = user) => {
    const r = await inject({ method: 'POST', url: '/api/files', ...multipart({ name, type, data }, {}, u.headers) });
    expect(r.statusCode).toBe(201);
    return r.json() as Item;
  };
  /** Waits for the background read to finish (status no longer "pending"). */
  const settled = async (id: string, u: User = user): Promise<Item> => {
    for (;;) {
      const item = (await inject({ method: 'GET', url: `/api/items/${id}`, headers: u.headers })).json() as Item;
      if (item.extraction?.status !== 'pending') return item;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const search = async (q: string, u: User = user) =>
    (
      (await inject({ method: 'GET', url: `/api/search?q=${encodeURIComponent(q)}`, headers: u.headers })).json() as { results: Array<{ item: Item }> }
    ).results.map((r) => r.item.id);
  const chatSources = async (message: string) => {
    const res = await inject({ method: 'POST', url: '/api/chat', headers: user.headers, payload: { message } });
    expect(res.statusCode).toBe(200);
    const first = res.body.split('\n\n').find((b) => b.startsWith('event: sources'))!;
    const data = JSON.parse(
      first
        .split('\n')
        .find((l) => l.startsWith('data: '))!
        .slice(6),
    ) as { sources: Array<{ itemId: string }> };
    return data.sources.map((s) => s.itemId);
  };

  it('OCRs a scanned PDF in a background job: pages separated by form feeds, searchable, in chat', async () => {
    const pdf = await upload('discharge.pdf', 'application/pdf', await scannedPdf([['Discharge letter'], ['Paroxysmal atrial fibrillation']]));
    expect(pdf.extraction).toEqual({ status: 'pending' });
    expect(pdf.version).toBe(1);
    const done = await settled(pdf.id);
    expect(done.extraction).toEqual({ status: 'ok' });
    // New text is a new version: whatever is keyed on the version (embeddings) sees the change.
    expect(done.version).toBe(2);
    const pages = done.text.split('\f');
    expect(pages).toHaveLength(2);
    expect(pages[1]).toMatch(/atrial fibrillation/i);
    expect(await search('fibrillation')).toContain(pdf.id);
    expect(await chatSources('Any atrial fibrillation in my discharge letter?')).toContain(pdf.id);
    const jobs = (await inject({ method: 'GET', url: '/api/jobs', headers: user.headers })).json() as {
      jobs: Array<{ kind: string; status: string; progress: { done: number; total?: number; unit: string } }>;
    };
    expect(jobs.jobs.find((j) => j.kind === 'extract')).toMatchObject({ status: 'done', progress: { done: 2, total: 2, unit: 'pages' } });
  });

  it('OCRs a photo of a lab report', async () => {
    const photo = await upload('lab-photo.png', 'image/png', await textPng(['Ferritin 12 ng/mL', 'Haemoglobin 13.2 g/dL']));
    const done = await settled(photo.id);
    expect(done.extraction).toEqual({ status: 'ok' });
    expect(done.text).toMatch(/Ferritin 12/);
    expect(await search('ferritin')).toContain(photo.id);
    expect(await chatSources('What was my ferritin?')).toContain(photo.id);
  });

  it('reads Word, Excel and HTML files into searchable text', async () => {
    const word = await upload('letter.docx', 'application/octet-stream', await docx(['Cardiology letter', 'Echocardiogram showed mitral regurgitation']));
    const sheet = await upload(
      'labs.xlsx',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      await xlsx({
        Thyroid: [
          ['Test', 'Value'],
          ['Thyrotropin', 2.1],
        ],
      }),
    );
    const page = await upload(
      'portal.html',
      'text/html',
      Buffer.from('<html><script>var leak = "scriptword";</script><body><p>Vitamin D insufficiency noted</p></body></html>'),
    );
    for (const [item, word_, text] of [
      [word, 'regurgitation', 'Echocardiogram showed mitral regurgitation'],
      [sheet, 'thyrotropin', 'Sheet: Thyroid\nTest\tValue\nThyrotropin\t2.1'],
      [page, 'insufficiency', 'Vitamin D insufficiency noted'],
    ] as const) {
      const done = await settled(item.id);
      expect(done.extraction).toEqual({ status: 'ok' });
      expect(done.text).toContain(text);
      expect(await search(word_)).toContain(item.id);
    }
    expect(await search('scriptword')).not.toContain(page.id);
    expect(await chatSources('Did the echocardiogram show regurgitation?')).toContain(word.id);
  });

  it('reads an e-mail and turns its attachment into an item of its own, linked both ways', async () => {
    const attachment = await docx(['Referral to the sleep clinic for apnoea']);
    const mail = await upload(
      'results.eml',
      'message/rfc822',
      eml({
        from: 'Dr Lee <lee@clinic.example>',
        to: 'me@example.com',
        subject: 'Sleep study',
        date: 'Tue, 3 Mar 2026 10:00:00 +0000',
        body: 'Please find the referral attached.',
        attachment: { name: 'referral.docx', type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', data: attachment },
      }),
    );
    const done = await settled(mail.id);
    expect(done.extraction).toEqual({ status: 'ok' });
    expect(done.text).toContain('Subject: Sleep study');
    const links = done.data!.attachments as Array<{ itemId: string; name: string }>;
    expect(links).toHaveLength(1);
    expect(links[0]!.name).toBe('referral.docx');
    const child = await settled(links[0]!.itemId);
    expect(child.data).toMatchObject({ attachmentOf: mail.id, fileName: 'referral.docx' });
    expect(child.text).toContain('apnoea');
    expect(await search('apnoea')).toContain(child.id);
    expect(await search('referral')).toEqual(expect.arrayContaining([mail.id, child.id]));
  });

  it('reads UTF-16 (with a BOM) and Windows-1252 text files into searchable text', async () => {
    const notepad = await upload(
      'notiz.txt',
      'text/plain',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Blutdruck über Grenzwert, Schilddrüse 血压', 'utf16le')]),
    );
    const csv = await upload('werte.csv', 'application/vnd.ms-excel', Buffer.from('01.12.2026;120/80;nach dem Fr\xfchst\xfcck\r\n', 'latin1'));
    expect(notepad.text).toBe('Blutdruck über Grenzwert, Schilddrüse 血压');
    expect(csv.text).toBe('01.12.2026;120/80;nach dem Frühstück\r\n');
    expect(await search('Schilddrüse')).toContain(notepad.id);
    expect(await search('Frühstück')).toContain(csv.id);
  });

  it('keeps a PDF word whose font changes mid-word whole, and drops U+0000 so the text can be edited', async () => {
    const split = await upload(
      'split.pdf',
      'application/pdf',
      await piecesPdf([[{ text: 'Result: ' }, { text: 'Cholest', bold: true }, { text: 'erol elevated' }]]),
    );
    expect(split.text).toBe('Result: Cholesterol elevated');
    expect(await search('Cholesterol')).toContain(split.id);
    const nul = await upload('nul.pdf', 'application/pdf', await nulPdf('Zyxquorbelt QQQ end'));
    expect(nul.text).toBe('Zyxquorbelt  end');
    const edit = await inject({ method: 'PATCH', url: `/api/items/${nul.id}`, headers: user.headers, payload: { text: nul.text.replace('end', 'fin') } });
    expect(edit.statusCode).toBe(200);
  });

  it('fails hostile files cleanly with a reason, and keeps them', async () => {
    const cases = [
      ['bomb.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', await docx(['x'], 16 * 1024 * 1024), 'unpacks to too much data'],
      ['huge.png', 'image/png', pngHeader(80_000, 80_000), 'image dimensions too large'],
      ['deep.html', 'text/html', Buffer.from('<div>'.repeat(5000) + 'deep'), 'nested too deeply'],
      ['poster.pdf', 'application/pdf', await hugePagePdf(), 'a page is too large to scan'],
      ['broken.pdf', 'application/pdf', Buffer.from('%PDF-1.7\n garbage garbage'), 'damaged or unreadable file'],
      ['mystery.bin', 'application/x-unknown', Buffer.from([1, 2, 3, 4]), 'unsupported type'],
    ] as const;
    for (const [name, type, data, reason] of cases) {
      const item = await upload(name, type, data);
      const done = await settled(item.id);
      expect(done.extraction, name).toMatchObject({ reason });
      expect(['failed', 'none']).toContain(done.extraction!.status);
      const dl = await inject({ method: 'GET', url: `/api/files/${item.fileId}`, headers: user.headers });
      expect(dl.rawPayload.equals(data)).toBe(true);
    }
  });

  it('says "scanned, OCR not installed" without tesseract, and "read again" works once it is there', async () => {
    const link = path.join(ocrDir, 'tesseract');
    const noOcr = await startTestServer(target, { OCR_TESSERACT_PATH: link });
    try {
      const u = await signUp(noOcr.app);
      const r = await noOcr.app.inject({
        method: 'POST',
        url: '/api/files',
        ...multipart({ name: 'scan.pdf', type: 'application/pdf', data: await scannedPdf([['Colonoscopy report']]) }, {}, u.headers),
      });
      const id = (r.json() as Item).id;
      const get = async () => (await noOcr.app.inject({ method: 'GET', url: `/api/items/${id}`, headers: u.headers })).json() as Item;
      let item = await get();
      while (item.extraction?.status === 'pending') item = (await new Promise((res) => setTimeout(res, 100)), await get());
      expect(item.extraction).toEqual({ status: 'failed', reason: 'scanned, OCR not installed' });
      const list = (await noOcr.app.inject({ method: 'GET', url: '/api/items', headers: u.headers })).json() as { items: Item[] };
      expect(list.items.find((i) => i.id === id)!.extraction).toEqual({ status: 'failed', reason: 'scanned, OCR not installed' });

      await symlink('/usr/bin/tesseract', link);
      const again = await noOcr.app.inject({ method: 'POST', url: `/api/items/${id}/extract`, headers: u.headers });
      expect(again.statusCode).toBe(202);
      const { jobId } = again.json() as { jobId: string };
      for (;;) {
        const job = (await noOcr.app.inject({ method: 'GET', url: `/api/jobs/${jobId}`, headers: u.headers })).json() as { status: string };
        if (job.status === 'done' || job.status === 'failed') break;
        await new Promise((res) => setTimeout(res, 100));
      }
      item = await get();
      expect(item.extraction).toEqual({ status: 'ok' });
      expect(item.text).toMatch(/Colonoscopy report/);
    } finally {
      await noOcr.dispose();
    }
  });

  it('answers read-again requests for items without a file, of others, or unknown, with clean errors', async () => {
    const note = (await inject({ method: 'POST', url: '/api/items', headers: user.headers, payload: { title: 'plain note', text: 'x' } })).json() as Item;
    expect(note.extraction).toBeUndefined();
    const noFile = await inject({ method: 'POST', url: `/api/items/${note.id}/extract`, headers: user.headers });
    expect(noFile.statusCode).toBe(400);
    expect(noFile.json().error.code).toBe('no_file');
    const other = await signUp(sut.app);
    const mine = await upload('mine.txt', 'text/plain', Buffer.from('private words'));
    expect(mine.extraction).toEqual({ status: 'ok' });
    expect((await inject({ method: 'POST', url: `/api/items/${mine.id}/extract`, headers: other.headers })).statusCode).toBe(404);
    expect((await inject({ method: 'POST', url: '/api/items/00000000-0000-4000-8000-000000000000/extract', headers: user.headers })).statusCode).toBe(404);
    expect((await inject({ method: 'POST', url: '/api/items/nope/extract', headers: user.headers })).json().error.code).toBe('invalid_request');
  });
});
