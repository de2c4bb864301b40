import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../test-support/sandbox/fake-ollama.js';
import { axe } from './axe.js';
import { launch, newSession, signUp, startServer, type RunningServer, type Session } from './helpers.js';

describe('keyboard shortcuts', () => {
  let ollama: FakeOllama;
  let server: RunningServer;
  let browser: Browser;
  let s: Session;

  beforeAll(async () => {
    ollama = await startFakeOllama({ tokens: Array.from({ length: 200 }, (_, i) => `word${i} `), tokenDelayMs: 100 });
    server = await startServer({ SANDBOX_RUNTIME: 'url', OLLAMA_URL: ollama.url });
    browser = await launch();
    s = await newSession(browser, server.url, 'shortcuts');
    await signUp(s.page, `keys+${Date.now()}@example.org`);
  });

  afterAll(async () => {
    await s?.context.close();
    await browser?.close();
    await server?.stop();
    await ollama?.close();
  });

  it('? shows the shortcut help (no accessibility violations), N a new note, / the search box', async () => {
    const { page } = s;
    await page.goto('/settings');
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    await page.keyboard.press('?');
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.getByText('Stop the answer being written').waitFor();
    expect(await axe(page)).toEqual([]);
    await s.shot('shortcut-help');
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'detached' });

    await page.keyboard.press('n');
    const note = page.getByRole('dialog', { name: 'New note' });
    await note.waitFor();
    expect(new URL(page.url()).pathname).toBe('/vault');
    // Typing in a field never triggers a shortcut.
    await note.getByLabel('Title').fill('');
    await note.getByLabel('Title').press('c');
    expect(await note.getByLabel('Title').inputValue()).toBe('c');
    // Something was typed: Escape asks before throwing it away.
    await page.keyboard.press('Escape');
    await page.getByRole('dialog', { name: 'Discard this note?' }).getByRole('button', { name: 'Discard' }).click();
    await note.waitFor({ state: 'detached' });

    await page.keyboard.press('/');
    await page.waitForFunction(() => document.activeElement?.id === 'vault-search');
    expect(new URL(page.url()).search).toBe('');
  });

  it('C starts a new chat with the cursor in the message box, Enter sends and Esc stops', async () => {
    const { page } = s;
    await page.goto('/vault');
    await page.getByRole('heading', { name: 'Vault' }).waitFor();
    await page.locator('body').click();
    await page.keyboard.press('c');
    await page.waitForURL('**/chat');
    await page.waitForFunction(() => document.activeElement?.id === 'chat-input');
    const aborted = ollama.nextAbort();
    await page.keyboard.type('Tell me everything.');
    await page.keyboard.press('Enter');
    const answer = page.getByTestId('assistant-message').last();
    await answer.getByText(/word2/).waitFor();
    await page.keyboard.press('Escape');
    await answer.getByText('Stopped.').waitFor();
    await aborted;
  });
});
