/**
 * What an upload's content is taken for: a binary file sent as text is an unsupported type (kept,
 * not read), an HTML page keeps its headings' case and its table cells apart, and a body that is
 * not multipart is the 415 every other route answers a wrong content type with.
 */
import { deflateSync } from 'node:zlib';
import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { textPng } from '../../test-support/server/extraction-fixtures.js';
import { dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { waitJob } from '../../test-support/server/jobs.js';

interface Item {
  id: string;
  text: string;
  fileId?: string;
  extraction?: { status: string; reason?: string };
}

describe.each(dbTargets())('what an upload is read as (%s)', (target) => {
  let sut: TestServer;
  let user: Awaited<ReturnType<typeof signUp>>;
  beforeAll(async () => {
    sut = await startTestServer(target);
    user = await signUp(sut.app);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  const upload = async (name: string, type: string, data: Buffer) => {
    const r = await sut.app.inject({ method: 'POST', url: '/api/files', ...multipart({ name, type, data }, {}, user.headers) });
    expect(r.statusCode, r.body).toBe(201);
    return r.json() as Item;
  };
  const get = async (id: string) => (await sut.app.inject({ method: 'GET', url: `/api/items/${id}`, headers: user.headers })).json() as Item;
  const settled = async (id: string): Promise<Item> => {
    for (let item = await get(id); ; item = await get(id)) {
      if (item.extraction?.status !== 'pending') return item;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const search = async (q: string) =>
    (
      (await sut.app.inject({ method: 'GET', url: `/api/search?q=${encodeURIComponent(q)}`, headers: user.headers })).json() as {
        results: Array<{ item: Item }>;
      }
    ).results.map((r) => r.item.id);
  const readAgain = async (id: string) => {
    const r = await sut.app.inject({ method: 'POST', url: `/api/items/${id}/extract`, headers: user.headers });
    expect(r.statusCode).toBe(202);
    await waitJob(sut.app, user.headers, (r.json() as { jobId: string }).jobId);
    return get(id);
  };

  it('keeps a binary file sent as text (a PNG or a zip renamed .txt) as an unsupported type: downloadable, no text, not searchable', async () => {
    const zip = await new JSZip().file('notes.txt', 'Qwertzblob '.repeat(200)).generateAsync({ type: 'nodebuffer', compression: 'STORE' });
    // Bytes with no NUL that are not text either: Windows-1252 would map every one to a character.
    const noNul = deflateSync(Buffer.from('Qwertzblob '.repeat(2000) + Array.from({ length: 4000 }, (_, i) => i * 7919).join(','))).map((b) => b || 1);
    const cases = [
      ['photo.txt', 'text/plain', await textPng(['Zyxwort reading'])],
      ['archive.txt', 'application/octet-stream', zip],
      ['blob.log', 'text/plain', Buffer.from(noNul)],
    ] as const;
    for (const [name, type, data] of cases) {
      const item = await settled((await upload(name, type, data)).id);
      expect(item.extraction, name).toEqual({ status: 'none', reason: 'unsupported type' });
      expect(item.text, name).toBe('');
      const dl = await sut.app.inject({ method: 'GET', url: `/api/files/${item.fileId}`, headers: user.headers });
      expect(dl.statusCode).toBe(200);
      expect(dl.rawPayload.equals(data), name).toBe(true);
      // "Read again" reads the stored file the same way.
      expect((await readAgain(item.id)).extraction, name).toEqual({ status: 'none', reason: 'unsupported type' });
    }
    // The stored zip holds this word in clear: it must not be searchable through the junk.
    expect(await search('Qwertzblob')).toEqual([]);
    expect(await search('IHDR')).toEqual([]);
  });

  it('still reads real text in UTF-8, UTF-16 with a BOM and Windows-1252, tabs, form feeds and terminal colours included', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Blutdruck über Grenzwert\r\nSchilddrüse 血压\f', 'utf16le')]);
    const ansi = Buffer.from('\u001b[32mINFO\u001b[0m\tGlukosewert gemessen\n'.repeat(50));
    const legacy = Buffer.from('Größe;Gewicht\r\n182;80 \x96 nach dem Frühstück \x80\r\n', 'latin1');
    const notepad = await upload('notiz.txt', 'text/plain', utf16);
    const log = await upload('device.log', 'text/plain', ansi);
    const csv = await upload('werte.csv', 'application/vnd.ms-excel', legacy);
    expect(notepad.extraction).toEqual({ status: 'ok' });
    expect(notepad.text).toBe('Blutdruck über Grenzwert\r\nSchilddrüse 血压\f');
    expect(log.extraction).toEqual({ status: 'ok' });
    expect(log.text).toContain('Glukosewert gemessen');
    expect(csv.extraction).toEqual({ status: 'ok' });
    expect(csv.text).toBe('Größe;Gewicht\r\n182;80 – nach dem Frühstück €\r\n');
    expect(await search('Glukosewert')).toContain(log.id);
    expect(await search('Schilddrüse')).toContain(notepad.id);
  });

  it('keeps the case of HTML headings and table headers, and keeps table cells apart', async () => {
    const html = Buffer.from(
      '<html><body><h1>Blood Pressure</h1><h3>Morning <b>Readings</b></h3>' +
        '<table><thead><tr><th>Test Name</th><th>Result</th></tr></thead>' +
        '<tbody><tr><td>Ferritin</td><td>12 ng/mL</td></tr></tbody></table></body></html>',
    );
    const page = await settled((await upload('portal.html', 'text/html', html)).id);
    expect(page.extraction).toEqual({ status: 'ok' });
    expect(page.text).toBe('Blood Pressure\n\n\nMorning Readings\n\nTest Name\tResult\nFerritin\t12 ng/mL');
    expect(await search('Ferritin')).toContain(page.id);
  });

  it('answers a JSON body to the upload route with 415 unsupported_media_type, as every other route', async () => {
    for (const url of ['/api/files', '/api/import/fitbit', '/api/import/apple-health', '/api/import/export']) {
      const r = await sut.app.inject({ method: 'POST', url, headers: user.headers, payload: { file: 'x' } });
      expect(r.statusCode, url).toBe(415);
      expect((r.json() as { error: { code: string } }).error.code, url).toBe('unsupported_media_type');
    }
    const plain = await sut.app.inject({ method: 'POST', url: '/api/files', headers: { ...user.headers, 'content-type': 'text/plain' }, payload: 'hello' });
    expect(plain.statusCode).toBe(415);
    expect((plain.json() as { error: { code: string } }).error.code).toBe('unsupported_media_type');
  });
});
