import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama, type FakeRegistryModel } from '../test-support/sandbox/fake-ollama.js';
import { axe } from './axe.js';
import { launch, newSession, signUp, startServer, type RunningServer, type Session } from './helpers.js';

const REGISTRY: Record<string, FakeRegistryModel> = {
  'qwen2.5:0.5b': {
    size: 397_807_936,
    family: 'qwen2',
    quantization: 'Q4_K_M',
    contextLength: 32768,
    blockCount: 24,
    embeddingLength: 896,
    headCount: 14,
    headCountKv: 2,
  },
  'llama3.2:1b': {
    size: 1_321_082_688,
    family: 'llama',
    quantization: 'Q8_0',
    contextLength: 131072,
    blockCount: 16,
    embeddingLength: 2048,
    headCount: 32,
    headCountKv: 8,
  },
};

describe('models in Settings and per chat, in the browser', () => {
  let ollama: FakeOllama;
  let server: RunningServer;
  let browser: Browser;
  let s: Session;
  let modelsDir: string;

  beforeAll(async () => {
    modelsDir = mkdtempSync(join(tmpdir(), 'cv-e2e-models-'));
    // Slow enough progress for a person (and the test) to see the bar move.
    ollama = await startFakeOllama({ modelsDir, registry: REGISTRY, pullDelayMs: 250, tokens: ['Rest ', 'and ', 'fluids.'] });
    await fetch(`${ollama.url}/api/pull`, { method: 'POST', body: JSON.stringify({ model: 'qwen2.5:0.5b', stream: false }) });
    server = await startServer({
      SANDBOX_RUNTIME: 'url',
      OLLAMA_URL: ollama.url,
      OLLAMA_MODEL: 'qwen2.5:0.5b',
      OLLAMA_NUM_CTX: '4096',
      SANDBOX_MEMORY_MB: '1024',
    });
    browser = await launch();
    s = await newSession(browser, server.url, 'models');
    // The first account is the server's admin.
    await signUp(s.page, `ada+${Date.now()}@example.org`);
  });

  afterAll(async () => {
    await s?.context.close();
    await browser?.close();
    await server?.stop();
    await ollama?.close();
    rmSync(modelsDir, { recursive: true, force: true });
  });

  it('lists the models with their metadata, pulls one with a progress bar, and says plainly it will not fit', async () => {
    const { page } = s;
    await page.goto('/settings');
    const section = page.getByTestId('models-settings');
    const qwen = section.locator('[data-model="qwen2.5:0.5b"]');
    await qwen.waitFor();
    expect(await qwen.textContent()).toMatch(/398 MB · qwen2 · Q4_K_M · 32K tokens context/);
    expect(await qwen.textContent()).toContain('default chat');

    await section.getByLabel('Pull a model by name').fill('llama3.2:1b');
    await section.getByRole('button', { name: 'Pull' }).click();
    const bar = section.getByRole('progressbar', { name: 'Pulling llama3.2:1b' });
    await page.waitForFunction(() => {
      const v = Number(document.querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow'));
      return v > 0 && v < 100;
    });
    expect(Number(await bar.getAttribute('aria-valuenow'))).toBeGreaterThan(0);
    await bar.scrollIntoViewIfNeeded();
    await s.shot('pull-progress');
    await section.getByText('llama3.2:1b is ready.').waitFor();
    const llama = section.locator('[data-model="llama3.2:1b"]');
    await llama.waitFor();
    expect(await llama.textContent()).toMatch(/1\.3 GB · llama · Q8_0 · 128K tokens context/);
    expect(await llama.getByTestId('model-no-fit').textContent()).toMatch(
      /^Will not fit: it needs about 1\.\d GiB with a 4K tokens context, and each sandbox has 1\.0 GiB \(SANDBOX_MEMORY_MB\)\.$/,
    );
    expect(await qwen.getByTestId('model-no-fit').count()).toBe(0);
    expect(
      ollama.requests
        .filter((r) => r.path === '/api/pull')
        .map((r) => (r.body as { model?: string; name?: string }).model ?? (r.body as { name: string }).name),
    ).toEqual(['qwen2.5:0.5b', 'llama3.2:1b']);
    await s.shot('models-list');
  });

  for (const scheme of ['light', 'dark'] as const) {
    it(`the Settings page with its Models section has no WCAG 2.1 A/AA violation (${scheme})`, async () => {
      const { page } = s;
      await page.emulateMedia({ colorScheme: scheme });
      await page.goto('/settings');
      await page.getByTestId('models-settings').locator('[data-model="llama3.2:1b"]').waitFor();
      expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe(scheme);
      expect(await axe(page)).toEqual([]);
      await page.getByRole('button', { name: 'Delete model llama3.2:1b' }).click();
      await page.getByRole('dialog', { name: 'Delete llama3.2:1b?' }).waitFor();
      expect(await axe(page)).toEqual([]);
      await page.getByRole('button', { name: 'Cancel' }).click();
      if (scheme === 'dark') await s.shot('models-dark');
    });
  }

  it('a chat uses the model picked for it, and keeps it', async () => {
    const { page } = s;
    await page.emulateMedia({ colorScheme: 'light' });
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Chat' }).click();
    const picker = page.getByLabel('Model', { exact: true });
    await picker.waitFor();
    expect(await picker.inputValue()).toBe('qwen2.5:0.5b');
    await picker.selectOption('llama3.2:1b');
    await page.getByLabel('Message').fill('What helps with a cold?');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.waitForURL(/\/chat\/[^/]+$/);
    const answer = page.getByTestId('assistant-message').last();
    await answer.getByRole('button', { name: 'Regenerate' }).waitFor();
    expect(ollama.requests.filter((r) => r.path === '/api/chat').map((r) => (r.body as { model: string }).model)).toEqual(['llama3.2:1b']);
    await answer.getByText('What the model saw').click();
    await answer.getByTestId('model-saw').getByText('llama3.2:1b').waitFor();

    await page.reload();
    await page.getByTestId('assistant-message').last().waitFor();
    expect(await page.getByLabel('Model', { exact: true }).inputValue()).toBe('llama3.2:1b');
  });

  it('deletes a model after confirming', async () => {
    const { page } = s;
    await page.goto('/settings');
    await page.getByRole('button', { name: 'Delete model llama3.2:1b' }).click();
    await page.getByRole('dialog', { name: 'Delete llama3.2:1b?' }).getByRole('button', { name: 'Delete model' }).click();
    await page.getByTestId('models-settings').locator('[data-model="llama3.2:1b"]').waitFor({ state: 'detached' });
    expect(ollama.requests.filter((r) => r.path === '/api/delete')).toHaveLength(1);
    // The 401 of /api/auth/me before signing up is expected; nothing else may fail.
    expect(s.problems.filter((p) => !/status of 401/.test(p))).toEqual([]);
  });
});
