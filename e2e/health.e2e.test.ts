import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appleHealthXml } from './fixtures.js';
import { launch, newSession, ROOT, signUp, startServer, type RunningServer, type Session } from './helpers.js';

describe('health in the browser', () => {
  let server: RunningServer;
  let browser: Browser;
  let s: Session;

  beforeAll(async () => {
    server = await startServer();
    browser = await launch();
    s = await newSession(browser, server.url, 'health');
    await signUp(s.page, `florence+${Date.now()}@example.org`);
  });

  afterAll(async () => {
    await s?.context.close();
    await browser?.close();
    await server?.stop();
  });

  it('imports an Apple Health export with a progress bar and charts the days', async () => {
    const { page } = s;
    const file = path.join(tmpdir(), `export-${Date.now()}.xml`);
    writeFileSync(file, appleHealthXml(21));
    const jobPolls: string[] = [];
    page.on('request', (r) => {
      if (/\/api\/jobs\/[^/]+$/.test(new URL(r.url()).pathname)) jobPolls.push(r.url());
    });

    // /health is also the server's liveness route, so reach the page through the app.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Health' }).click();
    await page.getByRole('heading', { name: 'Health', level: 1 }).waitFor();
    await page.getByTestId('metric-hr').getByText(/No heart rate data/).waitFor();
    await s.shot('health-empty');

    const cdp = await s.context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 64 * 1024 });
    await page.getByLabel('Import Apple Health export').setInputFiles(file);
    const progress = page.getByTestId('import-apple').getByRole('progressbar');
    await progress.waitFor();
    let midway: number | null = null;
    for (let i = 0; i < 100 && midway === null; i++) {
      const v = Number(await progress.getAttribute('aria-valuenow'));
      if (v > 0 && v < 100) midway = v;
      else await page.waitForTimeout(30);
    }
    await s.shot('health-import-progress');
    expect(midway).not.toBeNull();
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

    await page.getByTestId('import-apple').getByText(/^Imported .*heart rate/).waitFor({ timeout: 60_000 });
    expect(jobPolls.length).toBeGreaterThan(0);
    const chart = page.getByTestId('metric-hr').getByTestId('series-chart');
    await chart.waitFor();
    expect(await chart.getAttribute('aria-label')).toMatch(/Heart rate from .* 21 days with data/);
    await page.getByTestId('metric-steps').getByTestId('series-chart').waitFor();
    await page.getByRole('button', { name: '7 days' }).click();
    await page.waitForFunction(() => /7 days with data|[1-7] days with data/.test(document.querySelector('[data-testid="metric-hr"] [data-testid="series-chart"]')?.getAttribute('aria-label') ?? ''));
    await page.getByRole('button', { name: '30 days' }).click();
    await page.getByTestId('metric-hr').getByTestId('series-chart').hover();
    await s.shot('health-charts');
  });

  it('imports FHIR records and lists conditions, medications, allergies and labs with reference ranges', async () => {
    const { page } = s;
    const fx = (name: string) => JSON.parse(readFileSync(path.join(ROOT, 'integrations/fhir/fixtures', name), 'utf8')) as unknown;
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: ['observation-cbc-hemoglobin.json', 'condition-encounter-diagnosis-example1.json', 'medicationrequest-self-tylenol.json', 'allergyintolerance-example.json'].map(
        (f) => ({ resource: fx(f) }),
      ),
    };
    const file = path.join(tmpdir(), `records-${Date.now()}.json`);
    writeFileSync(file, JSON.stringify(bundle));
    await page.getByLabel('Import FHIR JSON').setInputFiles(file);
    await page.getByTestId('import-fhir').getByText(/^Imported /).waitFor({ timeout: 60_000 });

    const labs = page.getByRole('region', { name: 'Lab results' });
    await labs.getByText(/Reference range/).first().waitFor();
    await page.getByRole('region', { name: 'Conditions' }).getByRole('link').first().waitFor();
    await page.getByRole('region', { name: 'Medications' }).getByRole('link').first().waitFor();
    await page.getByRole('region', { name: 'Allergies' }).getByRole('link').first().waitFor();
    await page.getByRole('heading', { name: 'Records', exact: true }).scrollIntoViewIfNeeded();
    await s.shot('health-records');

    await labs.getByRole('link').first().click();
    await page.waitForURL(/\/vault\/[^/]+$/);
    await page.getByText('Reference range', { exact: true }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Main' });
    expect(await nav.getByRole('link', { name: 'Vault' }).getAttribute('aria-current')).toBe('page');
    await s.shot('lab-item');
  });
});
