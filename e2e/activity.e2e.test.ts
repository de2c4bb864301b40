import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, newSession, PASSPHRASE, signUp, startServer, type RunningServer, type Session } from './helpers.js';

/** Settings → Activity and "End all other sessions", and search snippets, in the real browser. */
describe('activity and search snippets in the browser', () => {
  let server: RunningServer;
  let browser: Browser;
  let s: Session;
  let other: Session;
  const email = `ada+${Date.now()}@example.org`;

  const signIn = async (page: Page, passphrase: string) => {
    await page.goto('/signin');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Passphrase').fill(passphrase);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };

  beforeAll(async () => {
    server = await startServer();
    browser = await launch();
    s = await newSession(browser, server.url, 'activity');
    other = await newSession(browser, server.url, 'activity-other');
    await signUp(s.page, email);
  });

  afterAll(async () => {
    await s?.context.close();
    await other?.context.close();
    await browser?.close();
    await server?.stop();
  });

  it('lists a failed sign-in and a sign-in with a coarse client, newest first', async () => {
    await signIn(other.page, 'not my passphrase at all');
    await other.page.getByRole('alert').waitFor();
    await signIn(other.page, PASSPHRASE);
    await other.page.waitForURL('**/vault');

    const { page } = s;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
    const card = page.getByRole('region', { name: 'Activity' });
    const list = card.getByTestId('activity-list');
    await list.waitFor();
    const rows = list.locator('li');
    await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(3);
    const actions = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-action')));
    expect(actions.slice(0, 3)).toEqual(['login', 'login_failed', 'register']);
    const failed = list.locator('li[data-action="login_failed"]');
    expect(await failed.textContent()).toContain('Failed sign-in attempt');
    expect(await failed.textContent()).toContain('Chrome on Linux');
    expect(await list.locator('li[data-action="login"]').textContent()).toContain('Signed in');
    await card.scrollIntoViewIfNeeded();
    await s.shot('activity');
  });

  it('ends all other sessions: the other browser is signed out, the event is listed', async () => {
    const { page } = s;
    await page.reload();
    const sessions = page.getByRole('region', { name: 'Active sessions' });
    await sessions.getByRole('button', { name: 'End all other sessions' }).click();
    await expect.poll(() => sessions.getByRole('button', { name: 'End session' }).count()).toBe(0);
    await page.reload();
    await page.getByRole('region', { name: 'Activity' }).locator('li[data-action="other_sessions_revoked"]').waitFor();
    await s.shot('other-sessions-ended');

    // The other browser's session is gone on the server: its next request is refused.
    expect(await other.page.evaluate(async () => (await fetch('/api/auth/me')).status)).toBe(401);
  });

  it('shows search results with the matched words highlighted, never as HTML', async () => {
    const { page } = s;
    const made = await page.evaluate(async () => {
      const r = await fetch('/api/items', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'Clinic letter', text: 'The thyroid ultrasound was normal. <img src=x onerror="window.__pwned=1">' }),
      });
      return r.status;
    });
    expect(made).toBe(201);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Vault' }).click();
    await page.getByRole('searchbox').fill('thyroid ultrasounds');
    const results = page.getByRole('list', { name: 'Results' });
    const marks = results.locator('mark');
    await expect.poll(() => marks.allTextContents()).toEqual(['thyroid', 'ultrasound']);
    expect(await results.locator('img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await s.shot('search-snippet');
    // The only console errors are the 401s of the signed-out start page, never script errors.
    expect(s.problems.filter((p) => !p.includes('401'))).toEqual([]);
  });
});
