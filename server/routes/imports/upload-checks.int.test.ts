import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multipart, signUp, startTestServer, type TestServer } from '../../../test-support/server/harness.js';

/** What an import route answers before any job exists: the file's kind, encoding and emptiness. */
describe('import uploads refused up front', () => {
  let server: TestServer;
  let user: Awaited<ReturnType<typeof signUp>>;
  beforeAll(async () => {
    server = await startTestServer('pglite');
    user = await signUp(server.app);
  });
  afterAll(async () => {
    await server?.dispose();
  });

  const upload = (url: string, name: string, data: Buffer) =>
    server.app.inject({ method: 'POST', url, ...multipart({ name, type: 'application/octet-stream', data }, {}, user.headers) });
  const expectError = (res: Awaited<ReturnType<typeof upload>>, status: number, code: string, message?: RegExp) => {
    expect(res.statusCode, res.body).toBe(status);
    expect(res.json().error.code).toBe(code);
    if (message) expect(res.json().error.message).toMatch(message);
  };
  const RECORD =
    '<Record type="HKQuantityTypeIdentifierHeartRate" sourceName="René’s Watch" unit="count/min" startDate="2026-06-01 08:00:00 +0100" endDate="2026-06-01 08:00:00 +0100" value="61"/>';
  const xml = (decl: string) => `${decl}\n<HealthData locale="fr_FR">\n ${RECORD}\n</HealthData>\n`;

  it('calls an empty file empty, not the wrong kind of file', async () => {
    expectError(await upload('/api/import/apple-health', 'export.zip', Buffer.alloc(0)), 422, 'empty_file', /^The file is empty\./);
    expectError(await upload('/api/import/fitbit', 'takeout.zip', Buffer.alloc(0)), 422, 'empty_file', /^The file is empty\./);
  });

  it('refuses an export.xml that is not UTF-8, naming its encoding, and keeps a UTF-8 one', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml('<?xml version="1.0" encoding="UTF-16"?>'), 'utf16le')]);
    expectError(await upload('/api/import/apple-health', 'export.xml', utf16), 422, 'unsupported_encoding', /saved as UTF-16/);
    const utf16be = Buffer.from(xml('<?xml version="1.0"?>'), 'utf16le').swap16();
    expectError(await upload('/api/import/apple-health', 'export.xml', utf16be), 422, 'unsupported_encoding', /saved as UTF-16/);
    const latin1 = Buffer.from(xml('<?xml version="1.0" encoding="ISO-8859-1"?>').replace('’', "'"), 'latin1');
    expectError(await upload('/api/import/apple-health', 'export.xml', latin1), 422, 'unsupported_encoding', /saved as ISO-8859-1/);
    const utf8 = await upload('/api/import/apple-health', 'export.xml', Buffer.from(xml('<?xml version="1.0" encoding="UTF-8"?>')));
    expect(utf8.statusCode, utf8.body).toBe(202);
  });

  it('refuses a compressed FHIR body as an unsupported encoding, not as "not FHIR"', async () => {
    const res = await server.app.inject({
      method: 'POST',
      url: '/api/import/fhir',
      headers: { ...user.headers, 'content-type': 'application/fhir+json', 'content-encoding': 'gzip' },
      payload: Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]),
    });
    expectError(res, 415, 'unsupported_media_type', /Content-Encoding "gzip"/);
  });

  it('keeps nothing of what it refused', async () => {
    const jobs = (await server.app.inject({ method: 'GET', url: '/api/jobs', headers: user.headers })).json().jobs as Array<{ kind: string }>;
    expect(jobs.map((j) => j.kind)).toEqual(['apple_health']); // the UTF-8 one
    const left = (await readdir(path.join(server.dataDir, 'imports', user.user.id)).catch(() => [])).filter((n) => n.startsWith('.upload-'));
    expect(left).toEqual([]);
  });
});
