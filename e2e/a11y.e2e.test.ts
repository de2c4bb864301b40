import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../test-support/sandbox/fake-ollama.js';
import { axe } from './axe.js';
import { appleHealthXml } from './fixtures.js';
import { launch, newSession, signUp, startServer, type RunningServer, type Session } from './helpers.js';

describe('accessibility and colour schemes on every signed-in page', () => {
  let ollama: FakeOllama;
  let server: RunningServer;
  let browser: Browser;
  let s: Session;
  let itemPath = '';
  let chatPath = '';

  beforeAll(async () => {
    // The default chat model must be listed, or /health/ollama says no_model and the page shows it.
    ollama = await startFakeOllama({ tokens: ['Twelve ', 'sessions ', '[1].'], models: ['test-model', 'nomic-embed-text:latest'] });
    server = await startServer({ SANDBOX_RUNTIME: 'url', OLLAMA_URL: ollama.url, OLLAMA_MODEL: 'test-model' });
    browser = await launch();
    s = await newSession(browser, server.url, 'a11y');
    await signUp(s.page, `axe+${Date.now()}@example.org`);
    const { page } = s;
    await page.getByRole('button', { name: 'New note' }).click();
    const dialog = page.getByRole('dialog', { name: 'New note' });
    await dialog.getByLabel('Title').fill('Physiotherapy plan');
    await dialog.getByLabel('Text').fill('Insurance covers twelve sessions of physiotherapy for the knee.');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/\/vault\/[^/]+$/);
    itemPath = new URL(page.url()).pathname;

    const file = path.join(tmpdir(), `a11y-export-${Date.now()}.xml`);
    writeFileSync(file, appleHealthXml(14));
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Health' }).click();
    await page.getByLabel('Import Apple Health export').setInputFiles(file);
    await page.getByTestId('card-heart_rate').locator('svg').first().waitFor({ timeout: 60_000 });

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Chat' }).click();
    await page.getByLabel('Message').fill('How many physiotherapy sessions are covered?');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.waitForURL(/\/chat\/[^/]+$/);
    await page.getByRole('button', { name: 'Regenerate' }).waitFor();
    chatPath = new URL(page.url()).pathname;
  });

  afterAll(async () => {
    await s?.context.close();
    await browser?.close();
    await server?.stop();
    await ollama?.close();
  });

  const open = async (page: Page, name: string) => {
    if (name === 'Health') {
      // /health is also the server's liveness route: reach the page through the app.
      await page.goto('/vault');
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Health' }).click();
      await page.getByTestId('card-heart_rate').locator('svg').first().waitFor();
      return;
    }
    const to = { Vault: '/vault', Item: itemPath, Chat: chatPath, Connections: '/connections', Settings: '/settings' }[name]!;
    await page.goto(to);
    await page.getByRole('main').first().waitFor();
    await page.waitForLoadState('networkidle');
    if (name === 'Chat') await page.getByText('What the model saw').click();
  };

  it('would catch the violations it looks for (the old logo link, low contrast)', async () => {
    const { page } = s;
    await page.emulateMedia({ colorScheme: 'light' });
    await page.goto('/vault');
    await page.getByRole('main').first().waitFor();
    await page.evaluate(() => {
      const a = document.createElement('a');
      a.href = '/vault';
      a.id = 'axe-control';
      a.setAttribute('aria-label', 'Home');
      a.textContent = 'Context Vault';
      a.style.color = '#bbbbbb';
      document.querySelector('main')!.append(a);
    });
    const v = (await axe(page)).map((x) => x.split(':')[0]);
    expect(v).toEqual(expect.arrayContaining(['label-content-name-mismatch', 'color-contrast']));
    await page.evaluate(() => document.getElementById('axe-control')!.remove());
  });

  for (const scheme of ['light', 'dark'] as const) {
    it(`finds no WCAG 2.1 A/AA violation in the ${scheme} scheme (system setting followed)`, async () => {
      const { page } = s;
      await page.emulateMedia({ colorScheme: scheme });
      const found: Record<string, string[]> = {};
      for (const name of ['Vault', 'Item', 'Health', 'Chat', 'Connections', 'Settings']) {
        await open(page, name);
        expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe(scheme);
        const v = await axe(page);
        if (v.length) found[name] = v;
        if (scheme === 'dark') await s.shot(`dark-${name.toLowerCase()}`);
      }
      expect(found).toEqual({});
    });
  }

  it('keeps a manual choice over the system setting, across reloads', async () => {
    const { page } = s;
    await page.emulateMedia({ colorScheme: 'light' });
    await page.goto('/settings');
    await page.getByRole('radio', { name: 'Dark' }).check();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await page.reload();
    await page.getByRole('radio', { name: 'Dark' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).not.toBe('rgb(250, 250, 249)');
    await page.getByRole('radio', { name: 'Same as the system' }).check();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
  });
});
