import { readFile } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../test-support/sandbox/fake-ollama.js';
import { launch, newSession, signUp, startServer, type RunningServer, type Session } from './helpers.js';

describe('answer tools in the browser', () => {
  let ollama: FakeOllama;
  let server: RunningServer;
  let browser: Browser;
  let s: Session;

  beforeAll(async () => {
    // The default chat model must be listed, or /health/ollama says no_model and the page shows it.
    ollama = await startFakeOllama({
      tokens: ['Your ', 'plan ', 'covers ', 'twelve ', 'sessions ', '[1].'],
      models: ['test-model', 'nomic-embed-text:latest'],
    });
    server = await startServer({ SANDBOX_RUNTIME: 'url', OLLAMA_URL: ollama.url, OLLAMA_MODEL: 'test-model', OLLAMA_NUM_CTX: '4096' });
    browser = await launch();
    s = await newSession(browser, server.url, 'chat-tools');
    await s.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await signUp(s.page, `lin+${Date.now()}@example.org`);
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

  it('links [n] to its source, copies the answer and shows what the model saw', async () => {
    const { page } = s;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Chat' }).click();
    await page.getByLabel('Message').fill('How many physiotherapy sessions does my insurance cover?');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.waitForURL(/\/chat\/[^/]+$/);
    const answer = page.getByTestId('assistant-message').last();
    await answer.getByRole('button', { name: 'Regenerate' }).waitFor();

    await answer.getByRole('button', { name: 'Copy answer' }).click();
    await answer.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('Your plan covers twelve sessions [1].');

    await answer.getByText('What the model saw').click();
    const saw = answer.getByTestId('model-saw');
    await saw.getByText('test-model').waitFor();
    expect(await saw.textContent()).toContain('4,096 tokens');
    expect(await saw.textContent()).toMatch(/1 of \d+ found fitted/);
    expect(await saw.textContent()).toContain('[1] Physiotherapy plan');
    await s.shot('model-saw');

    const cite = answer.getByTestId('citation');
    expect(await cite.textContent()).toBe('[1]');
    expect(await cite.getAttribute('aria-label')).toBe('[1] Physiotherapy plan');
    await cite.click();
    await page.waitForURL(/\/vault\/[^/]+$/);
    await page.getByRole('heading', { name: 'Physiotherapy plan' }).waitFor();
    await page.goBack();
    await page.waitForURL(/\/chat\/[^/]+$/);
  });

  it('regenerates, keeping the earlier answer, then renames and exports the chat as Markdown', async () => {
    const { page } = s;
    ollama.options.tokens = ['Twelve ', 'sessions ', 'a ', 'year ', '[1].'];
    const answer = page.getByTestId('assistant-message').last();
    await answer.getByRole('button', { name: 'Regenerate' }).click();
    await answer.getByText('Twelve sessions a year').waitFor();
    await answer.getByText('Earlier answers (1)').waitFor();
    // Reloaded from the server: the earlier answer is stored with the chat.
    await page.reload();
    const reloaded = page.getByTestId('assistant-message').last();
    await reloaded.getByText('Twelve sessions a year').waitFor();
    await reloaded.getByText('Earlier answers (1)').click();
    await reloaded.getByTestId('earlier-answers').getByText('Your plan covers twelve sessions').waitFor();
    await s.shot('regenerated');

    await page.getByRole('button', { name: 'Rename' }).click();
    await page.getByLabel('Chat title').fill('Physio coverage');
    await page.getByRole('button', { name: 'Save title' }).click();
    await page.getByRole('heading', { name: 'Physio coverage' }).waitFor();
    await page.getByRole('complementary', { name: 'Conversations' }).getByText('Physio coverage').waitFor();

    const download = page.waitForEvent('download', { timeout: 60_000 });
    await page.getByRole('link', { name: 'Export as Markdown' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('chat-physio-coverage.md');
    const md = await readFile((await file.path())!, 'utf8');
    expect(md).toMatch(/^# Physio coverage\n/);
    expect(md).toContain('Twelve sessions a year [1].');
    expect(md).toContain('- [1] Physiotherapy plan (note');
    await s.shot('renamed');
  });
});
