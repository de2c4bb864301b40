import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { Decrypter } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, newSession, PASSPHRASE, signUp, startServer, type RunningServer, type Session } from './helpers.js';

describe('settings in the browser', () => {
  let server: RunningServer;
  let browser: Browser;
  let s: Session;
  const email = `grace+${Date.now()}@example.org`;
  const NEXT = 'amber orchard violin glacier 7';
  const RECOVERED = 'copper lighthouse fennel drizzle 9';
  let recoveryKey = '';
  let oldRecoveryKey = 'CV1-WRONG-KEY';

  beforeAll(async () => {
    server = await startServer();
    browser = await launch();
    s = await newSession(browser, server.url, 'settings');
    recoveryKey = await signUp(s.page, email);
  });

  afterAll(async () => {
    await s?.context.close();
    await browser?.close();
    await server?.stop();
  });

  it('lists this browser among the active sessions', async () => {
    const { page } = s;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
    const sessions = page.getByRole('region', { name: 'Active sessions' });
    await sessions.getByText('This browser').waitFor();
    await s.shot('settings');
  });

  it('changes the passphrase, shows the API error for a wrong current one, and signs in with the new one', async () => {
    const { page } = s;
    const card = page.getByRole('region', { name: 'Change passphrase' });
    await card.getByLabel('Current passphrase').fill('definitely not it at all');
    await card.getByLabel('New passphrase').fill(NEXT);
    await card.getByLabel('Re-enter to confirm').fill(NEXT);
    await card.getByRole('button', { name: 'Change passphrase' }).click();
    await card.getByRole('alert').waitFor();
    await s.shot('passphrase-wrong');

    await card.getByLabel('Current passphrase').fill(PASSPHRASE);
    await card.getByRole('button', { name: 'Change passphrase' }).click();
    await card.getByText('Passphrase changed.').waitFor();
    await s.shot('passphrase-changed');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/signin');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Passphrase').fill(NEXT);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/vault');
    expect(await page.getByRole('heading', { name: 'Vault' }).isVisible()).toBe(true);
  });

  it('replaces the recovery key in Settings (passphrase asked, new key shown once in the sign-up dialog)', async () => {
    const { page } = s;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
    const card = page.getByRole('region', { name: 'Recovery key' });
    await card.getByRole('button', { name: 'Create a new recovery key…' }).click();
    const ask = page.getByRole('dialog', { name: 'Create a new recovery key?' });
    await ask.getByLabel('Your passphrase').fill(NEXT);
    await ask.getByRole('button', { name: 'Create new key' }).click();
    const shown = page.getByRole('dialog', { name: 'Save your recovery key' });
    const next = ((await shown.getByTestId('recovery-key').textContent()) ?? '').trim();
    expect(next).toMatch(/^CV1-/);
    expect(next).not.toBe(recoveryKey);
    await s.shot('recovery-key-rotated');
    await shown.getByLabel('I have saved my recovery key').check();
    await shown.getByRole('button', { name: 'Continue' }).click();
    await card.getByText('Your new recovery key is active. The old one no longer works.').waitFor();
    oldRecoveryKey = recoveryKey;
    recoveryKey = next;
  });

  it('recovers the vault with the recovery key and a new passphrase', async () => {
    const { page } = s;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/signin');
    await page.getByRole('link', { name: 'Use your recovery key' }).click();
    await page.waitForURL('**/recover');
    await page.getByLabel('Email').fill(email);
    // The key replaced in Settings no longer opens the vault.
    await page.getByLabel('Recovery key').fill(oldRecoveryKey);
    await page.getByLabel('New passphrase').fill(RECOVERED);
    await page.getByLabel('Re-enter to confirm').fill(RECOVERED);
    await page.getByRole('button', { name: 'Set new passphrase' }).click();
    await page.getByRole('alert').waitFor();
    await s.shot('recover-error');
    await page.getByLabel('Recovery key').fill(recoveryKey);
    await page.getByRole('button', { name: 'Set new passphrase' }).click();
    await page.waitForURL('**/vault');
    await s.shot('recovered');
  });

  it('exports the vault as an age-encrypted file download', async () => {
    const { page } = s;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
    const card = page.getByRole('region', { name: 'Export your vault' });
    await card.getByLabel('Export passphrase', { exact: true }).fill('export passphrase for my backup');
    await card.getByLabel('Export passphrase again').fill('export passphrase for my backup');
    await card.getByLabel(/Include items in the trash/).check();
    const download = page.waitForEvent('download', { timeout: 60_000 });
    await card.getByRole('button', { name: 'Export' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^context-vault-export-.*\.age$/);
    const saved = path.join(tmpdir(), `export-${Date.now()}.age`);
    await file.saveAs(saved);
    expect(readFileSync(saved).subarray(0, 21).toString('latin1')).toBe('age-encryption.org/v1');
    // The manifest (a plain tar's first entry) records that the trash was asked for.
    const d = new Decrypter();
    d.addPassphrase('export passphrase for my backup');
    const plain = Buffer.from(await d.decrypt(new Uint8Array(readFileSync(saved))));
    expect(plain.subarray(0, 4096).toString('utf8')).toContain('"includesTrash": true');
    await card.getByText(/Export downloaded as/).waitFor();
    await s.shot('export-done');
  });

  it('deletes the account only after the passphrase and a typed confirmation', async () => {
    const { page } = s;
    await page.getByRole('button', { name: 'Delete account…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete your account?' });
    await dialog.getByLabel('Your passphrase').fill('wrong passphrase here');
    const confirm = dialog.getByRole('button', { name: 'Delete everything' });
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByLabel('Type "delete" to confirm').fill('delete');
    await confirm.click();
    await dialog.getByRole('alert').waitFor();
    await s.shot('delete-wrong-passphrase');
    await dialog.getByLabel('Your passphrase').fill(RECOVERED);
    await confirm.click();
    await page.waitForURL('**/signup');

    await page.goto('/signin');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Passphrase').fill(RECOVERED);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
  });
});
