import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildZip } from '../test-support/integrations/fitbit/archive-writer.js';
import { localDay, tinyPdf } from './fixtures.js';
import { launch, newSession, signUp, startServer, type RunningServer, type Session } from './helpers.js';

/** Reads a progress bar until it is seen part-way (neither empty nor full); returns that value. */
async function seenMidway(bar: ReturnType<Session['page']['getByRole']>, page: Session['page']): Promise<number | null> {
  for (let i = 0; i < 200; i++) {
    const raw = await bar.getAttribute('aria-valuenow').catch(() => null);
    const v = Number(raw);
    if (raw !== null && v > 0 && v < 100) return v;
    await page.waitForTimeout(25);
  }
  return null;
}

describe('drag-and-drop and archive uploads in the browser', () => {
  let server: RunningServer;
  let browser: Browser;
  let s: Session;

  beforeAll(async () => {
    server = await startServer();
    browser = await launch();
    s = await newSession(browser, server.url, 'uploads');
    await signUp(s.page, `noor+${Date.now()}@example.org`);
  });

  afterAll(async () => {
    await s?.context.close();
    await browser?.close();
    await server?.stop();
  });

  it('uploads files dropped on the vault, with a progress bar per file', async () => {
    const { page } = s;
    // A real DataTransfer holding real File objects, as the browser builds for a drop from the desktop.
    const dataTransfer = await page.evaluateHandle(
      ({ pdf }) => {
        const dt = new DataTransfer();
        const text = `Dermatology follow-up. Mole on left shoulder unchanged.\n${'Notes from the visit. '.repeat(70_000)}`;
        dt.items.add(new File([text], 'dermatology-visit.txt', { type: 'text/plain' }));
        dt.items.add(new File([new Uint8Array(pdf)], 'vaccination-card.pdf', { type: 'application/pdf' }));
        return dt;
      },
      { pdf: [...tinyPdf('Vaccination card: tetanus booster 2024')] },
    );
    const target = page.getByRole('heading', { name: 'Vault' });
    await target.dispatchEvent('dragenter', { dataTransfer });
    await target.dispatchEvent('dragover', { dataTransfer });
    await page.getByText('Drop to add to your vault').waitFor();
    await s.shot('drag-over');

    const cdp = await s.context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 300 * 1024 });
    await target.dispatchEvent('drop', { dataTransfer });
    expect(await page.getByText('Drop to add to your vault').isVisible()).toBe(false);
    const bar = page.getByRole('progressbar', { name: 'Upload progress for dermatology-visit.txt' });
    await bar.waitFor();
    expect(await seenMidway(bar, page)).not.toBeNull();
    await page.getByRole('progressbar', { name: 'Upload progress for vaccination-card.pdf' }).waitFor();
    await s.shot('drop-progress');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

    const uploads = page.getByRole('region', { name: 'Uploads' });
    await uploads.getByText('Saved to your vault').nth(1).waitFor({ timeout: 60_000 });
    const list = page.getByRole('list', { name: 'Vault items' });
    await list.getByRole('link', { name: /dermatology-visit/ }).waitFor();
    await list.getByRole('link', { name: /vaccination-card/ }).waitFor();
    await s.shot('drop-done');
    await page.getByRole('searchbox').fill('shoulder');
    await page
      .getByRole('region', { name: 'Search results' })
      .getByRole('link', { name: /dermatology-visit/ })
      .waitFor();
    await page.getByRole('searchbox').fill('');
  });

  it('imports a Fitbit archive on the Connections page with a progress bar, and the steps are charted', async () => {
    const { page } = s;

    // A Takeout "Fitbit" archive: per-minute steps (CSV) for the last ten days, stored uncompressed
    // so the upload is big enough to watch, and a file the importer does not know.
    const rows = ['timestamp,steps,data source'];
    for (let d = 9; d >= 0; d--) {
      const day = localDay(d);
      for (let m = 0; m < 600; m++) {
        const t = new Date(`${day}T08:00:00`);
        t.setMinutes(t.getMinutes() + m);
        rows.push(`${t.toISOString().replace('.000', '')},${10 + ((m * 7 + d) % 30)},Charge 6`);
      }
    }
    const zip = buildZip([
      { name: `Takeout/Fitbit/Physical Activity_GoogleData/steps_${localDay(9)}.csv`, data: rows.join('\n'), store: true },
      { name: 'Takeout/Fitbit/Global Export Data/mystery-export.json', data: JSON.stringify({ filler: 'x'.repeat(600_000) }), store: true },
    ]);
    const file = path.join(tmpdir(), `takeout-fitbit-${Date.now()}.zip`);
    writeFileSync(file, zip);

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Connections' }).click();
    const card = page.getByRole('region', { name: 'Fitbit archive' });
    await card.waitFor();
    const cdp = await s.context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 300 * 1024 });
    await card.getByLabel('Import Fitbit archive').setInputFiles(file);
    const bar = card.getByRole('progressbar', { name: `Uploading ${path.basename(file)}` });
    await bar.waitFor();
    expect(await seenMidway(bar, page)).not.toBeNull();
    await s.shot('fitbit-uploading');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await card.getByText(/^Imported .*steps/).waitFor({ timeout: 60_000 });
    expect(await card.getByText(/^Imported/).textContent()).toMatch(/unrecognised files/);
    await s.shot('fitbit-imported');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Health' }).click();
    const chart = page.getByTestId('card-steps').getByTestId('series-chart');
    await chart.waitFor({ timeout: 30_000 });
    expect(await chart.getAttribute('aria-label')).toMatch(/10 days with data/);
    await page.getByTestId('card-steps').scrollIntoViewIfNeeded();
    await s.shot('fitbit-steps-chart');
  });
});
