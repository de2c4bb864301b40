import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../test-support/sandbox/fake-ollama.js';
import { pagedPdf } from './fixtures.js';
import { launch, newSession, signUp, startServer, type RunningServer, type Session } from './helpers.js';

/** Drops files on the vault page as the desktop would, and waits until all are saved. */
async function drop(s: Session, files: Array<{ name: string; type: string; bytes: number[] }>): Promise<void> {
  const { page } = s;
  const dataTransfer = await page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) dt.items.add(new File([new Uint8Array(f.bytes)], f.name, { type: f.type }));
    return dt;
  }, files);
  const target = page.getByRole('heading', { name: 'Vault' });
  await target.dispatchEvent('dragenter', { dataTransfer });
  await target.dispatchEvent('dragover', { dataTransfer });
  await target.dispatchEvent('drop', { dataTransfer });
  await page
    .getByRole('region', { name: 'Uploads' })
    .getByText('Saved to your vault')
    .nth(files.length - 1)
    .waitFor({ timeout: 60_000 });
}

describe('semantic search in the browser', () => {
  let ollama: FakeOllama;
  let server: RunningServer;
  let browser: Browser;
  let s: Session;

  beforeAll(async () => {
    ollama = await startFakeOllama({ models: ['llama3.1:8b', 'nomic-embed-text:latest'], tokens: ['Yes: paroxysmal atrial fibrillation ', '[1].'] });
    server = await startServer({ SANDBOX_RUNTIME: 'url', OLLAMA_URL: ollama.url });
    browser = await launch();
    s = await newSession(browser, server.url, 'citations');
    await signUp(s.page, `okafor+${Date.now()}@example.org`);
  });

  afterAll(async () => {
    await s?.context.close();
    await browser?.close();
    await server?.stop();
    await ollama?.close();
  });

  it('a chat citation [n] opens the PDF at the page the passage is on', async () => {
    const { page } = s;
    const pdf = pagedPdf(['Thank you for referring Mr Jones to clinic.', 'Holter monitoring confirmed paroxysmal atrial fibrillation.']);
    await drop(s, [{ name: 'cardiology-letter.pdf', type: 'application/pdf', bytes: [...pdf] }]);
    // The upload started the embedding sweep; wait for it through the API the Settings page reads.
    for (let i = 0; i < 600; i++) {
      const st = (await (await page.request.get(`${server.url}/api/embeddings`)).json()) as { embedded: number; total: number };
      if (st.total > 0 && st.embedded === st.total) break;
      await page.waitForTimeout(100);
    }
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Chat' }).click();
    await page.waitForURL('**/chat');
    await page.getByLabel('Message').fill('any heart rhythm problems?');
    await page.getByRole('button', { name: 'Send' }).click();
    const citation = page.getByTestId('assistant-message').last().getByTestId('citation');
    await citation.waitFor({ timeout: 30_000 });
    expect(await citation.getAttribute('href')).toMatch(/\/vault\/[^/#]+#page=2$/);
    expect(await citation.getAttribute('aria-label')).toContain('page 2');
    expect(await page.getByTestId('keyword-only').count()).toBe(0);
    await s.shot('citation');
    await citation.click();
    await page.waitForURL(/\/vault\/[^/#]+#page=2$/);
    await page
      .getByTestId('pdf-canvas')
      .and(page.getByRole('img', { name: /^Page 2 of cardiology-letter/ }))
      .waitFor({ timeout: 30_000 });
    await s.shot('pdf-at-page-2');
  });
});

describe('without an embedding model in the browser', () => {
  let ollama: FakeOllama;
  let server: RunningServer;
  let browser: Browser;
  let s: Session;

  beforeAll(async () => {
    ollama = await startFakeOllama({ models: ['llama3.1:8b'], tokens: ['Noted ', '[1].'] });
    server = await startServer({ SANDBOX_RUNTIME: 'url', OLLAMA_URL: ollama.url });
    browser = await launch();
    s = await newSession(browser, server.url, 'keyword-only');
    await signUp(s.page, `kw+${Date.now()}@example.org`);
  });

  afterAll(async () => {
    await s?.context.close();
    await browser?.close();
    await server?.stop();
    await ollama?.close();
  });

  it('search and chat say "Keyword search only"', async () => {
    const { page } = s;
    await page.getByRole('button', { name: 'New note' }).click();
    const dialog = page.getByRole('dialog', { name: 'New note' });
    await dialog.getByLabel('Title').fill('Lipid clinic');
    await dialog.getByLabel('Text').fill('Cholesterol 4.1, atorvastatin started.');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/\/vault\/[^/]+$/);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Vault' }).click();
    await page.getByRole('searchbox').fill('cholesterol');
    await page.getByRole('region', { name: 'Search results' }).getByTestId('keyword-only').waitFor();
    await s.shot('search-keyword-only');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Chat' }).click();
    await page.getByLabel('Message').fill('what did the lipid clinic say?');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByTestId('assistant-message').last().getByTestId('keyword-only').waitFor({ timeout: 30_000 });
    await s.shot('chat-keyword-only');
  });
});
