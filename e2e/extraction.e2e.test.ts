import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scannedPdf } from '../test-support/server/extraction-fixtures.js';
import { launch, newSession, signUp, startServer, type RunningServer, type Session } from './helpers.js';

describe('a file the server cannot read, in the browser', () => {
  let server: RunningServer;
  let browser: Browser;
  let s: Session;
  // The tesseract path is a link that does not exist yet: OCR is "not installed" until it does.
  const ocrDir = mkdtempSync(path.join(tmpdir(), 'cv-e2e-ocr-'));
  const tesseract = path.join(ocrDir, 'tesseract');

  beforeAll(async () => {
    server = await startServer({ OCR_TESSERACT_PATH: tesseract });
    browser = await launch();
    s = await newSession(browser, server.url, 'extraction');
    await signUp(s.page, `ines+${Date.now()}@example.org`);
  });

  afterAll(async () => {
    await s?.context.close();
    await browser?.close();
    await server?.stop();
    rmSync(ocrDir, { recursive: true, force: true });
  });

  it('shows "can\'t read this file" with the reason, and "Read again" reads it once OCR is installed', async () => {
    const { page } = s;
    const pdf = [...(await scannedPdf([['Colonoscopy report', 'No polyps found']]))];
    const status = await page.evaluate(async (bytes) => {
      const form = new FormData();
      form.append('file', new File([new Uint8Array(bytes)], 'colonoscopy-scan.pdf', { type: 'application/pdf' }));
      return (await fetch('/api/files', { method: 'POST', body: form })).status;
    }, pdf);
    expect(status).toBe(201);

    const list = page.getByRole('list', { name: 'Vault items' });
    const row = list.getByRole('link', { name: /colonoscopy-scan/ });
    // The read runs in the background: reload until the list shows its outcome.
    for (
      let i = 0;
      i < 60 &&
      !(await row
        .getByTestId('unreadable-badge')
        .isVisible()
        .catch(() => false));
      i++
    ) {
      await page.goto('/vault');
      await row.waitFor();
    }
    await expect.poll(() => row.getByTestId('unreadable-badge').textContent()).toBe("Can't read this file: scanned, OCR not installed");
    await s.shot('list-badge');

    await row.click();
    const notice = page.getByRole('region', { name: 'File text' });
    await notice.getByText("Can't read this file: scanned, OCR not installed").waitFor();
    await s.shot('item-unreadable');

    symlinkSync('/usr/bin/tesseract', tesseract);
    await notice.getByRole('button', { name: 'Read again' }).click();
    const content = page.getByRole('region', { name: 'Content' });
    await content.getByText(/No polyps found/).waitFor({ timeout: 120_000 });
    expect(await page.getByRole('region', { name: 'File text' }).count()).toBe(0);
    await s.shot('item-read');

    await page.goto('/vault');
    await list.getByRole('link', { name: /colonoscopy-scan/ }).waitFor();
    expect(
      await list
        .getByRole('link', { name: /colonoscopy-scan/ })
        .getByTestId('unreadable-badge')
        .count(),
    ).toBe(0);
    // The sign-up page asks who is signed in first (a 401 before sign-up is expected).
    expect(s.problems.filter((p) => !/status of 401/.test(p))).toEqual([]);
  });
});
