import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../test-support/sandbox/fake-ollama.js';
import { launch, newSession, signUp, startServer, type RunningServer, type Session } from './helpers.js';

describe('chat in the browser', () => {
  let ollama: FakeOllama;
  let server: RunningServer;
  let browser: Browser;
  let s: Session;

  beforeAll(async () => {
    ollama = await startFakeOllama({
      tokens: [
        'Your ',
        '**physiotherapy** ',
        'plan ',
        'covers ',
        'twelve ',
        'sessions ',
        '[1]. ',
        'See https://evil.example/x ',
        '![x](https://evil.example/p.png)',
      ],
      tokenDelayMs: 120,
    });
    server = await startServer({ SANDBOX_RUNTIME: 'url', OLLAMA_URL: ollama.url });
    browser = await launch();
    s = await newSession(browser, server.url, 'chat');
    await signUp(s.page, `mary+${Date.now()}@example.org`);
    const { page } = s;
    await page.getByRole('button', { name: 'New note' }).click();
    const dialog = page.getByRole('dialog', { name: 'New note' });
    await dialog.getByLabel('Title').fill('Physiotherapy plan');
    await dialog.getByLabel('Text').fill('Insurance covers twelve sessions of physiotherapy for the knee.');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/\/vault\/[^/]+$/);
  });

  afterAll(async () => {
    await s?.context.close();
    await browser?.close();
    await server?.stop();
    await ollama?.close();
  });

  it('streams an answer with source chips that open the cited item', async () => {
    const { page } = s;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Chat' }).click();
    await page.waitForURL('**/chat');
    expect(await page.getByTestId('ai-offline').count()).toBe(0);
    await page.getByLabel('Message').fill('How many physiotherapy sessions does my insurance cover?');
    await page.getByRole('button', { name: 'Send' }).click();

    await page.getByRole('button', { name: 'Stop' }).waitFor();
    const answer = page.getByTestId('assistant-message').last();
    await answer.getByText('physiotherapy', { exact: true }).waitFor();
    await s.shot('chat-streaming');
    await page.getByRole('button', { name: 'Send' }).waitFor({ timeout: 30_000 });
    await page.waitForURL(/\/chat\/[^/]+$/);

    expect(await answer.locator('strong').first().textContent()).toBe('physiotherapy');
    expect(await answer.locator('a[href^="http"], img').count()).toBe(0);
    const chip = answer.getByTestId('source-chip').first();
    expect(await chip.textContent()).toContain('Physiotherapy plan');
    await page.getByRole('complementary', { name: 'Conversations' }).getByRole('link').first().waitFor();
    await s.shot('chat-done');

    await chip.click();
    await page.waitForURL(/\/vault\/[^/]+$/);
    await page.getByRole('heading', { name: 'Physiotherapy plan' }).waitFor();
    await page.goBack();
    await page.waitForURL(/\/chat\/[^/]+$/);
    await page.getByTestId('assistant-message').first().getByTestId('source-chip').waitFor();
    await s.shot('chat-reopened');
  });

  it('Stop aborts the answer, and the server stops the model', async () => {
    const { page } = s;
    ollama.options.tokens = Array.from({ length: 200 }, (_, i) => `word${i} `);
    ollama.options.tokenDelayMs = 150;
    const aborted = ollama.nextAbort();
    await page.getByLabel('Message').fill('Tell me everything.');
    await page.getByRole('button', { name: 'Send' }).click();
    const answer = page.getByTestId('assistant-message').last();
    await answer.getByText(/word2/).waitFor();
    await page.getByRole('button', { name: 'Stop' }).click();
    await answer.getByText('Stopped.').waitFor();
    await aborted;
    await s.shot('chat-stopped');
    expect(await page.getByRole('button', { name: 'Send' }).count()).toBe(1);
  });
});

describe('chat without a model runtime', () => {
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startServer({ SANDBOX_RUNTIME: 'none' });
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('says the AI is not set up on a server with no runtime, and sends nothing', async () => {
    const s = await newSession(browser, server.url, 'chat-not-set-up');
    await signUp(s.page, `offline+${Date.now()}@example.org`);
    await s.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Chat' }).click();
    await s.page.getByTestId('ai-offline').getByText('AI not set up on this server').waitFor();
    await s.page.getByLabel('Message').fill('Hello?');
    expect(await s.page.getByRole('button', { name: 'Send' }).isDisabled()).toBe(true);
    expect(await s.page.getByLabel('Message').inputValue()).toBe('Hello?');
    await s.shot('chat-not-set-up');
    await s.context.close();
  });

  it('shows the server message when the configured Ollama does not answer', async () => {
    const down = await startServer({ SANDBOX_RUNTIME: 'url', OLLAMA_URL: 'http://127.0.0.1:9' });
    try {
      const s = await newSession(browser, down.url, 'chat-offline');
      await signUp(s.page, `down+${Date.now()}@example.org`);
      await s.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Chat' }).click();
      await s.page.getByTestId('ai-offline').waitFor();
      await s.page.getByLabel('Message').fill('Hello?');
      await s.page.getByRole('button', { name: 'Send' }).click();
      // Refused before any answer (503 ai_offline): the server's sentence, and the question back in the box.
      await s.page.getByRole('region', { name: 'Conversation' }).getByRole('alert').filter({ hasText: /./ }).waitFor();
      expect(await s.page.getByLabel('Message').inputValue()).toBe('Hello?');
      expect(await s.page.getByTestId('assistant-message').count()).toBe(0);
      await s.shot('chat-offline');
      await s.context.close();
    } finally {
      await down.stop();
    }
  });
});
