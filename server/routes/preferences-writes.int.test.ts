import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';

describe.each(dbTargets())('preferences writes (%s)', (target) => {
  let server: TestServer;
  const app = () => server.app;
  const put = (headers: Record<string, string>, payload: object) =>
    app().inject({ method: 'PUT', url: '/api/preferences', headers: { ...headers, 'content-type': 'application/json' }, payload });

  beforeAll(async () => {
    server = await startTestServer(target);
  });
  afterAll(() => server?.dispose());

  it('merges writes sent at the same time (two tabs, a script beside the app): none is refused or lost', async () => {
    const user = await signUp(app());
    const writes = [
      { units: { weight: 'lb' } },
      { units: { distance: 'mi' } },
      { units: { glucose: 'mmol/L' } },
      { units: { hba1c: 'mmol/mol' } },
      { hidden: ['sleep'] },
    ];
    const answers = await Promise.all(writes.map((w) => put(user.headers, w)));
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200]);
    const stored = (await app().inject({ method: 'GET', url: '/api/preferences', headers: user.headers })).json();
    expect(stored).toEqual({ hidden: ['sleep'], units: { weight: 'lb', distance: 'mi', glucose: 'mmol/L', hba1c: 'mmol/mol' } });
  });

  it('needs read as well as write from a token: the answer is the merged preferences, not only what was sent', async () => {
    const user = await signUp(app());
    expect((await put(user.headers, { hidden: ['sleep'] })).statusCode).toBe(200);
    const mint = async (scopes: string[]) =>
      (await app().inject({ method: 'POST', url: '/api/tokens', headers: user.headers, payload: { name: scopes.join('+'), scopes } })).json() as {
        token: string;
      };
    const writer = await mint(['write']);
    const refused = await put({ authorization: `Bearer ${writer.token}` }, { units: { weight: 'lb' } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('insufficient_scope');
    expect(refused.body).not.toContain('sleep');
    const readWriter = await mint(['read', 'write']);
    const merged = await put({ authorization: `Bearer ${readWriter.token}` }, { units: { weight: 'lb' } });
    expect(merged.json()).toEqual({ hidden: ['sleep'], units: { weight: 'lb' } });
  });
});
