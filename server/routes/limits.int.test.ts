import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Limits } from '../../contract/index.js';
import { dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';

describe.each(dbTargets())('upload limits (%s)', (target) => {
  let sut: TestServer;
  beforeAll(async () => {
    sut = await startTestServer(target, { MAX_UPLOAD_MB: '1', MAX_IMPORT_MB: '512' });
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  it('tells a signed-in client the largest upload and import, and no one else', async () => {
    expect((await sut.app.inject({ method: 'GET', url: '/api/limits' })).statusCode).toBe(401);
    const u = await signUp(sut.app);
    const r = await sut.app.inject({ method: 'GET', url: '/api/limits', headers: u.headers });
    expect(r.statusCode).toBe(200);
    // A FHIR JSON document is parsed whole, so it has a lower bound of its own than NDJSON.
    expect(Limits.strict().parse(r.json())).toEqual({ maxUploadBytes: 1024 * 1024, maxImportBytes: 512 * 1024 * 1024, maxFhirJsonBytes: 256 * 1024 * 1024 });
  });

  it('states the limit in MB when it refuses a file', async () => {
    const u = await signUp(sut.app);
    const r = await sut.app.inject({
      method: 'POST',
      url: '/api/files',
      ...multipart({ name: 'big.bin', type: 'application/octet-stream', data: randomBytes(1024 * 1024 + 10) }, {}, u.headers),
    });
    expect(r.statusCode).toBe(413);
    expect(r.json().error).toEqual({ code: 'too_large', message: 'The file is larger than this server accepts (1 MB at most).' });
  });
});
