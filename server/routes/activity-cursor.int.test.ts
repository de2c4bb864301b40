import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';

describe.each(dbTargets())('activity cursor errors (%s)', (target) => {
  let sut: TestServer;

  beforeAll(async () => {
    sut = await startTestServer(target);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  it('answers 400 invalid_cursor to a malformed cursor, as /api/chats does', async () => {
    const user = await signUp(sut.app);
    for (const cursor of ['abc', '', '-1', '!'.repeat(48), 'A'.repeat(5000), 'A'.repeat(48)]) {
      const r = await sut.app.inject({ method: 'GET', url: `/api/activity?cursor=${cursor}`, headers: user.headers });
      expect(r.statusCode, cursor.slice(0, 10)).toBe(400);
      expect(r.json().error.code, cursor.slice(0, 10)).toBe('invalid_cursor');
    }
  });
});
