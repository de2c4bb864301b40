import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, newSession, signUp, startServer, type RunningServer, type Session } from './helpers.js';

const TEXT = ['# Lisbon trip', '', '- book flights', '- hotel near the station', '', '## Packing', '- passport', '- charger', ''].join('\n');

describe('history, edit conflicts, folders and trash in the browser', () => {
  let server: RunningServer;
  let browser: Browser;
  let s: Session;
  let noteUrl = '';

  beforeAll(async () => {
    server = await startServer();
    browser = await launch();
    s = await newSession(browser, server.url, 'history');
    await signUp(s.page, `hist+${Date.now()}@example.org`);
  });

  afterAll(async () => {
    await s?.context.close();
    await browser?.close();
    await server?.stop();
  });

  const editor = (p: Page) => p.getByLabel('Text (Markdown)');

  it('writes a note from the keyboard and previews its Markdown safely', async () => {
    const { page } = s;
    await page.locator('body').press('n');
    const dialog = page.getByRole('dialog', { name: 'New note' });
    await dialog.getByLabel('Title').fill('Lisbon');
    await dialog.getByLabel('Text').fill(TEXT);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/\/vault\/[0-9a-f-]{36}$/);
    noteUrl = new URL(page.url()).pathname;

    await page.getByRole('button', { name: 'Edit' }).click();
    await editor(page).fill(`${TEXT}[a link](https://example.com/x) ![pixel](https://example.com/p.png) <b>raw</b>\n`);
    await page.getByTestId('save-state').filter({ hasText: 'Saved · version 2' }).waitFor();
    await page.getByRole('tab', { name: 'Preview' }).click();
    const preview = page.getByRole('region', { name: 'Preview' });
    await preview.getByRole('heading', { name: 'Lisbon trip' }).waitFor();
    // The chat renderer's rules: no anchors, no images, raw HTML shown as text.
    expect(await preview.locator('a, img, b').count()).toBe(0);
    expect(await preview.textContent()).toContain('a link');
    await s.shot('preview');
    await page.getByRole('tab', { name: 'Write' }).click();
    await editor(page).fill(TEXT);
    await page.keyboard.press('Control+s');
    await page.getByTestId('save-state').filter({ hasText: 'Saved · version 3' }).waitFor();
  });

  it('merges edits from two pages of the same note, and the second save shows the merge', async () => {
    const a = s.page;
    const b = await s.context.newPage();
    await b.goto(noteUrl);
    await b.getByRole('button', { name: 'Edit' }).click();
    await editor(b).waitFor();
    // Both pages start from version 3 and change different lines; the first page saves at once
    // (Ctrl+S) while the second is still waiting to autosave.
    await editor(b).fill(TEXT.replace('- charger', '- charger\n- plug adapter'));
    await editor(a).fill(TEXT.replace('- book flights', '- book flights (TAP 9:40)'));
    await a.keyboard.press('Control+s');
    await b
      .getByTestId('merge-notice')
      .filter({ hasText: /Merged your edits with version 4/ })
      .waitFor({ timeout: 20_000 });
    await s.shot('merged');
    const merged = TEXT.replace('- book flights', '- book flights (TAP 9:40)').replace('- charger', '- charger\n- plug adapter');
    await b.getByTestId('save-state').filter({ hasText: 'Saved · version 5' }).waitFor({ timeout: 20_000 });
    expect(await editor(b).inputValue()).toBe(merged);
    // The first page sees the merged save without reloading.
    await a
      .getByTestId('merge-notice')
      .filter({ hasText: /Updated with version 5/ })
      .waitFor({ timeout: 20_000 });
    expect(await editor(a).inputValue()).toBe(merged);

    // Overlapping edits: the later page is asked to choose, side by side.
    await editor(b).fill(merged.replace('- passport', '- passport + visa'));
    await editor(a).fill(merged.replace('- passport', '- passport (renewed)'));
    await a.keyboard.press('Control+s');
    const choose = b.getByRole('dialog', { name: 'This note was changed in another session' });
    await choose.waitFor({ timeout: 20_000 });
    expect(await choose.getByRole('region', { name: 'Your version' }).textContent()).toContain('passport + visa');
    expect(await choose.getByRole('region', { name: /Saved version 6/ }).textContent()).toContain('passport (renewed)');
    await s.shot('conflict');
    await choose.getByRole('button', { name: 'Keep my version' }).click();
    await b.getByTestId('save-state').filter({ hasText: 'Saved · version 7' }).waitFor({ timeout: 20_000 });
    await a
      .getByTestId('save-state')
      .filter({ hasText: /version 7/ })
      .waitFor({ timeout: 20_000 });
    expect(await editor(a).inputValue()).toContain('passport + visa');
    await b.close();
  });

  it('restores an old version from the history panel', async () => {
    const { page } = s;
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('button', { name: 'History' }).click();
    const history = page.getByRole('region', { name: 'History' });
    await history.getByRole('button', { name: /Version 7 \(current\)/ }).waitFor();
    await history.getByRole('button', { name: /^Version 1\b/ }).click();
    await history.getByLabel('Differences').getByText('+ - plug adapter').waitFor();
    await s.shot('history-diff');
    await history.getByRole('button', { name: 'Restore version 1' }).click();
    await history.getByRole('button', { name: /Version 8 \(current\)/ }).waitFor();
    // A note's page shows its Markdown rendered: the list item, not the "- " that makes it.
    const content = page.getByRole('region', { name: 'Content' });
    await content.getByRole('listitem').filter({ hasText: 'book flights' }).waitFor();
    expect(await content.textContent()).not.toContain('plug adapter');
  });

  it('creates nested folders, drags the note into one, shows breadcrumbs and moves it with the menu', async () => {
    const { page } = s;
    await page.getByRole('link', { name: 'Back to vault' }).click();
    const folders = page.getByRole('navigation', { name: 'Folders' });
    const newFolder = async (name: string) => {
      await folders.getByRole('button', { name: 'New folder' }).click();
      const d = page.getByRole('dialog', { name: /New folder/ });
      await d.getByLabel('Folder name').fill(name);
      await d.getByRole('button', { name: 'Save' }).click();
      await folders.getByRole('button', { name: new RegExp(`^${name}`) }).waitFor();
    };
    await newFolder('Travel');
    await folders.getByRole('button', { name: /^Travel/ }).click();
    await newFolder('Portugal');
    await folders.getByRole('button', { name: 'All items' }).click();

    const row = page.getByRole('list', { name: 'Vault items' }).getByRole('link', { name: /Lisbon/ });
    await row.dragTo(folders.getByRole('button', { name: /^Portugal/ }));
    await folders.getByRole('button', { name: /^Portugal\s*1$/ }).waitFor();
    await folders.getByRole('button', { name: /^Portugal/ }).click();
    const crumbs = page.getByRole('navigation', { name: 'Breadcrumbs' });
    expect((await crumbs.textContent())?.replace(/\s+/g, ' ')).toBe('All items›Travel›Portugal'.replace(/\s+/g, ' '));
    await page
      .getByRole('list', { name: 'Vault items' })
      .getByRole('link', { name: /Lisbon/ })
      .waitFor();
    await s.shot('folders');

    await crumbs.getByRole('button', { name: 'Travel' }).click();
    await page.getByText('This folder is empty').waitFor();
    await page.getByRole('list', { name: 'Vault items' }).waitFor({ state: 'detached' });
    await folders.getByRole('button', { name: /^Portugal/ }).click();
    await page
      .getByRole('list', { name: 'Vault items' })
      .getByRole('link', { name: /Lisbon/ })
      .click();
    await page.getByLabel('Move to folder').selectOption({ label: 'Travel' });
    await page.getByRole('link', { name: 'Back to vault' }).click();
    await folders.getByRole('button', { name: /^Travel\s*1$/ }).waitFor();
  });

  it('empties the trash for good', async () => {
    const { page } = s;
    // "Back to vault" returned to the folder the note was opened from (Portugal, empty now).
    await page.getByRole('navigation', { name: 'Folders' }).getByRole('button', { name: 'All items' }).click();
    await page
      .getByRole('list', { name: 'Vault items' })
      .getByRole('link', { name: /Lisbon/ })
      .click();
    await page.getByRole('button', { name: 'Move to trash' }).click();
    await page.waitForURL(/\/vault(\?.*)?$/);
    await page.getByRole('tab', { name: 'Trash' }).click();
    await page.getByRole('list', { name: 'Trash' }).getByText('Lisbon').waitFor();
    await page.getByRole('button', { name: 'Empty trash' }).click();
    const d = page.getByRole('dialog', { name: 'Empty the trash?' });
    await d.getByRole('button', { name: 'Delete for good' }).click();
    await page.getByText('Trash is empty').waitFor();
    await s.shot('trash-empty');
    const res = await page.request.get(`/api${noteUrl.replace('/vault', '/items')}`);
    expect(res.status()).toBe(404);
    expect(s.problems.filter((p) => /Content Security Policy|Refused/.test(p))).toEqual([]);
  });
});
