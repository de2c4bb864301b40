import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, newSession, signUp, startServer, type RunningServer, type Session } from './helpers.js';

const run = promisify(execFile);

/** curl as a user's script would run it: status code on the last line. */
async function curl(args: string[]): Promise<{ status: number; body: string }> {
  const { stdout } = await run('curl', ['-sS', '-w', '\n%{http_code}', ...args]);
  const i = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(i + 1)), body: stdout.slice(0, i) };
}

describe('personal API tokens in the browser and from a script', () => {
  let server: RunningServer;
  let browser: Browser;
  let s: Session;

  beforeAll(async () => {
    server = await startServer();
    browser = await launch();
    s = await newSession(browser, server.url, 'tokens');
    await signUp(s.page, `ada+${Date.now()}@example.org`);
  });

  afterAll(async () => {
    await s?.context.close();
    await browser?.close();
    await server?.stop();
  });

  it('creates a token in Settings, shown once, that a script uses with curl; revoking it refuses the script at once', async () => {
    const { page } = s;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
    const card = page.getByRole('region', { name: 'API tokens' });
    await card.getByLabel('Token name').fill('nightly script');
    await card.getByRole('checkbox', { name: /Write/ }).check();
    await card.getByLabel('Expires after').selectOption('30');
    await card.getByRole('button', { name: 'Create token' }).click();
    const token = (await card.getByTestId('new-token').textContent())!.trim();
    expect(token).toMatch(/^cvt_[A-Za-z0-9_-]{43}$/);
    await card.getByRole('list', { name: 'Your API tokens' }).getByText('nightly script').waitFor();
    await card.getByText('Never used', { exact: false }).waitFor();
    await s.shot('token-created');

    const auth = ['-H', `Authorization: Bearer ${token}`];
    const made = await curl([
      ...auth,
      '-H',
      'Content-Type: application/json',
      '-d',
      JSON.stringify({ title: 'Written by a script', text: 'glucose 5.4 mmol/L fasting' }),
      `${server.url}/api/items`,
    ]);
    expect(made.status).toBe(201);
    const denied = await curl([
      ...auth,
      '-X',
      'POST',
      '-H',
      'Content-Type: application/json',
      '-d',
      JSON.stringify({ name: 'child', scopes: ['read'] }),
      `${server.url}/api/tokens`,
    ]);
    expect(denied.status).toBe(403);
    expect(JSON.parse(denied.body).error.code).toBe('token_not_allowed');

    // The browser sees what the script wrote, and the token's last use.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Vault' }).click();
    await page.getByText('Written by a script').first().waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
    await card.getByText('Last used', { exact: false }).waitFor();
    // Shown once: after leaving the page the token itself is nowhere on it.
    expect(await page.content()).not.toContain(token);

    await card.getByRole('button', { name: 'Revoke nightly script' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke token' }).click();
    await card.getByRole('list', { name: 'Your API tokens' }).waitFor({ state: 'detached' });
    const after = await curl([...auth, `${server.url}/api/items`]);
    expect(after.status).toBe(401);
    expect(JSON.parse(after.body).error.code).toBe('invalid_token');
    await s.shot('token-revoked');
  });
});
