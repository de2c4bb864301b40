import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyPdf } from './fixtures.js';
import { launch, newSession, PASSPHRASE, startServer, type RunningServer, type Session } from './helpers.js';

describe('vault in the browser', () => {
  let server: RunningServer;
  let browser: Browser;
  let s: Session;
  const email = `ada+${Date.now()}@example.org`;

  beforeAll(async () => {
    server = await startServer();
    browser = await launch();
    s = await newSession(browser, server.url, 'vault');
  });

  afterAll(async () => {
    await s?.context.close();
    await browser?.close();
    await server?.stop();
  });

  it('signs up, showing passphrase strength, the data-loss warning and a recovery key that must be acknowledged', async () => {
    const { page } = s;
    await page.goto('/login');
    await page.waitForURL(/\/signin$/);
    await page.goto('/');
    await page.waitForURL('**/signin');
    await s.shot('signin-empty');
    await page.getByRole('link', { name: 'Create a vault' }).click();
    await page.waitForURL('**/signup');

    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Passphrase', { exact: true }).fill('password1');
    await expect(page.getByTestId('passphrase-strength').textContent()).resolves.toMatch(/Very weak|Weak/);
    await page.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
    await expect(page.getByTestId('passphrase-strength').textContent()).resolves.toMatch(/Strong|Good/);
    await expect(page.getByRole('note').textContent()).resolves.toMatch(/data is gone for good/);
    await page.getByLabel('Re-enter to confirm').fill(PASSPHRASE);
    await s.shot('signup-form');
    await page.getByRole('button', { name: 'Create account' }).click();

    const dialog = page.getByRole('dialog', { name: 'Save your recovery key' });
    await dialog.waitFor();
    const key = (await dialog.getByTestId('recovery-key').textContent())?.trim() ?? '';
    expect(key.length).toBeGreaterThan(20);
    const cont = dialog.getByRole('button', { name: 'Continue' });
    expect(await cont.isDisabled()).toBe(true);
    await page.keyboard.press('Escape');
    expect(await dialog.isVisible()).toBe(true);

    const download = page.waitForEvent('download');
    await dialog.getByRole('button', { name: 'Download as text file' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('context-vault-recovery-key.txt');
    const saved = path.join(tmpdir(), `rk-${Date.now()}.txt`);
    await file.saveAs(saved);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(saved, 'utf8')).toContain(key);
    await s.shot('recovery-key-dialog');

    await dialog.getByLabel('I have saved my recovery key').check();
    await cont.click();
    await page.waitForURL('**/vault');
    await page.getByText('Your vault is empty').waitFor();
    await s.shot('vault-empty');
  });

  it('creates a note and finds it with search', async () => {
    const { page } = s;
    await page.getByRole('button', { name: 'New note' }).click();
    const dialog = page.getByRole('dialog', { name: 'New note' });
    await dialog.getByLabel('Title').fill('Physiotherapy plan');
    await dialog.getByLabel('Text').fill('Knee exercises three times a week. Insurance covers twelve sessions of physiotherapy.');
    await dialog.getByLabel('Tags').fill('knee, insurance');
    await s.shot('new-note');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/\/vault\/[^/]+$/);
    await page.getByRole('heading', { name: 'Physiotherapy plan' }).waitFor();
    await s.shot('note-view');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Vault' }).click();
    await page.getByRole('searchbox').fill('physiotherapy');
    const results = page.getByRole('region', { name: 'Search results' });
    await results.getByRole('link', { name: /Physiotherapy plan/ }).waitFor();
    await s.shot('search');
    await page.getByRole('searchbox').fill('');
  });

  it('uploads files with a progress bar and shows a PDF in the page', async () => {
    const { page } = s;
    const dir = tmpdir();
    const big = path.join(dir, `blood-test-notes-${Date.now()}.txt`);
    writeFileSync(big, `Cholesterol results. LDL 96 mg/dL.\n${'Lorem ipsum dolor sit amet. '.repeat(60_000)}`);
    const pdf = path.join(dir, `discharge-letter-${Date.now()}.pdf`);
    writeFileSync(pdf, tinyPdf('Discharge letter: rest for two weeks'));

    // Slow the upload down so the bar is seen moving, as on a real connection.
    const cdp = await s.context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 400 * 1024 });

    await page.getByLabel('Upload files').setInputFiles([big]);
    const bar = page.getByRole('progressbar', { name: /Upload progress for blood-test-notes/ });
    await bar.waitFor();
    let midway: number | null = null;
    for (let i = 0; i < 100 && midway === null; i++) {
      const v = Number(await bar.getAttribute('aria-valuenow'));
      if (v > 0 && v < 100) midway = v;
      else await page.waitForTimeout(50);
    }
    await s.shot('upload-progress');
    expect(midway).not.toBeNull();
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await page.getByText('Saved to your vault').first().waitFor({ timeout: 60_000 });
    expect(await bar.getAttribute('aria-valuenow')).toBe('100');

    await page.getByLabel('Upload files').setInputFiles([pdf]);
    await page.getByText('Saved to your vault').nth(1).waitFor();
    await s.shot('uploads-done');

    await page
      .getByRole('list', { name: 'Vault items' })
      .getByRole('link', { name: /discharge-letter/ })
      .click();
    await page.getByText(/Page 1 of 1/).waitFor({ timeout: 30_000 });
    const canvas = page.getByTestId('pdf-canvas');
    expect(await canvas.evaluate((c: HTMLCanvasElement) => c.width > 100 && c.height > 100)).toBe(true);
    await page.getByRole('link', { name: 'Download' }).waitFor();
    await s.shot('pdf-view');
  });

  it('edits a note, moves it to the trash and restores it', async () => {
    const { page } = s;
    await page.getByRole('link', { name: 'Back to vault' }).click();
    await page
      .getByRole('list', { name: 'Vault items' })
      .getByRole('link', { name: /Physiotherapy plan/ })
      .click();
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Text (Markdown)').fill('Knee exercises four times a week. Insurance covers twelve sessions of physiotherapy.');
    await page.getByRole('button', { name: 'Save now' }).click();
    await page.getByTestId('save-state').filter({ hasText: 'Saved · version 2' }).waitFor();
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByText('Knee exercises four times a week.').waitFor();
    await page.getByLabel('Add a tag').fill('rehab');
    await page.getByLabel('Add a tag').press('Enter');
    await page.getByRole('button', { name: 'Remove tag rehab' }).waitFor();
    await s.shot('note-edited');

    await page.getByRole('button', { name: 'Move to trash' }).click();
    await page.waitForURL('**/vault');
    await page.getByRole('tab', { name: 'Trash' }).click();
    await page.getByRole('list', { name: 'Trash' }).getByText('Physiotherapy plan').waitFor();
    await s.shot('trash');
    await page.getByRole('button', { name: 'Restore Physiotherapy plan' }).click();
    await page.getByText('Trash is empty').waitFor();
    await page.getByRole('tab', { name: 'All items' }).click();
    await page
      .getByRole('list', { name: 'Vault items' })
      .getByRole('link', { name: /Physiotherapy plan/ })
      .waitFor();
  });

  it('scrolls through hundreds of items, loading pages as it goes and keeping the DOM small', async () => {
    const { page } = s;
    for (let i = 0; i < 260; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, (_, k) =>
          page.request
            .post('/api/items', {
              headers: { Origin: server.url },
              data: { title: `Daily journal ${String(i + k).padStart(3, '0')}`, text: `Entry number ${i + k}.`, tags: ['journal'] },
            })
            .then((r) => expect(r.status()).toBe(201)),
        ),
      );
    }
    await page.reload();
    const list = page.getByRole('list', { name: 'Vault items' });
    await list.getByRole('listitem').first().waitFor();
    const scroller = page.getByTestId('virtual-scroller');
    for (let i = 0; i < 30; i++) {
      await scroller.evaluate((el) => el.scrollTo(0, el.scrollHeight));
      await page.waitForTimeout(150);
      if (/263 items shown$/.test((await page.getByText(/items shown/).textContent()) ?? '')) break;
    }
    await page.getByText('263 items shown').waitFor();
    expect(await list.getByRole('listitem').count()).toBeLessThan(40);
    await page.getByLabel('Tag').selectOption('journal');
    await page.getByText(/^260 items shown|^100 items shown/).waitFor();
    await s.shot('many-items');
    await page.getByLabel('Tag').selectOption('');
  });

  it('signs out and signs in again, and the vault is still there', async () => {
    const { page } = s;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/signin');
    await page.goto('/vault');
    await page.waitForURL('**/signin?next=%2Fvault');

    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Passphrase').fill('not the right passphrase');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    await s.shot('signin-error');

    await page.getByLabel('Passphrase').fill(PASSPHRASE);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/vault');
    await page.getByRole('list', { name: 'Vault items' }).getByRole('listitem').first().waitFor();
    await page.getByRole('searchbox').fill('physiotherapy');
    await page
      .getByRole('region', { name: 'Search results' })
      .getByRole('link', { name: /Physiotherapy plan/ })
      .waitFor();
    await page.getByRole('searchbox').fill('');
    await s.shot('vault-after-signin');
    expect(s.problems.filter((p) => /Content Security Policy|Refused/.test(p))).toEqual([]);
  });
});
