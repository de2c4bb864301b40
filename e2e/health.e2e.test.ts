import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle, usCoreLab } from '../test-support/server/health-data.js';
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

  const cardKeys = () => s.page.locator('[data-testid="dashboard-cards"] > section').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')));

  it('imports an Apple Health export with a progress bar and charts every series present', async () => {
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
    await page.getByText(/No measurements to chart yet/).waitFor();
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
    expect(midway).not.toBeNull();
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

    await page
      .getByTestId('import-apple')
      .getByText(/^Imported .*heart rate/)
      .waitFor({ timeout: 60_000 });
    expect(jobPolls.length).toBeGreaterThan(0);
    const chart = page.getByTestId('card-heart_rate').getByTestId('series-chart');
    await chart.waitFor();
    expect(await chart.getAttribute('aria-label')).toMatch(/Heart rate from .* 21 days with data/);
    expect(await cardKeys()).toEqual(['card-heart_rate', 'card-weight', 'card-steps']);
    await page.getByRole('button', { name: '90 days' }).click();
    await page.waitForFunction(() =>
      /from \d{4}-\d{2}-\d{2} to/.test(document.querySelector('[data-testid="card-steps"] [data-testid="series-chart"]')?.getAttribute('aria-label') ?? ''),
    );
    await page.getByRole('button', { name: 'Latest' }).click();
    await page.getByTestId('card-heart_rate').getByTestId('series-chart').hover();
    await page.getByRole('heading', { name: 'Dashboard' }).scrollIntoViewIfNeeded();
    await s.shot('health-dashboard');
  });

  it('chooses and reorders dashboard cards, and keeps the choice', async () => {
    const { page } = s;
    await page.getByRole('button', { name: 'Customize' }).click();
    const dialog = page.getByRole('dialog', { name: 'Customize dashboard' });
    await dialog.getByRole('button', { name: 'Move Steps up' }).click();
    await dialog.getByRole('button', { name: 'Move Steps up' }).click();
    await dialog.getByTestId('choose-weight').getByRole('checkbox').uncheck();
    await s.shot('dashboard-customize');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="dashboard-cards"] > section').length === 2);
    expect(await cardKeys()).toEqual(['card-steps', 'card-heart_rate']);
    await page.reload();
    await page.getByTestId('card-steps').getByTestId('series-chart').waitFor();
    expect(await cardKeys()).toEqual(['card-steps', 'card-heart_rate']);
    await s.shot('dashboard-customized');
  });

  it('a blood pressure entered by hand appears on its chart', async () => {
    const { page } = s;
    await page.getByRole('button', { name: 'Add entry' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add an entry' });
    await dialog.getByLabel('What').selectOption('blood_pressure');
    await dialog.getByLabel('Systolic (mmHg)').fill('128');
    await dialog.getByLabel('Diastolic (mmHg)').fill('84');
    await s.shot('manual-entry');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    // A metric that gains data shows up after the chosen cards.
    const card = page.getByTestId('card-blood_pressure');
    await card.getByTestId('series-chart').waitFor();
    expect(await card.textContent()).toMatch(/Latest\s*128\/84\s*mmHg/);
    // It opens on the 30 days ending on the entry's own local day: one reading, both lines.
    const today = await page.evaluate(() => {
      const d = new Date();
      return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    });
    expect(await card.getByTestId('series-chart').getAttribute('aria-label')).toMatch(
      new RegExp(`^Blood pressure from \\d{4}-\\d{2}-\\d{2} to ${today}: 1 day with data, average 128/84 mmHg`),
    );
    expect(await cardKeys()).toEqual(['card-steps', 'card-heart_rate', 'card-blood_pressure']);
    await card.scrollIntoViewIfNeeded();
    await s.shot('manual-blood-pressure-chart');

    // Editable: open it from the vault, correct the systolic, and the chart follows.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Vault' }).click();
    await page
      .getByRole('link', { name: /Blood pressure 128\/84 mmHg/ })
      .first()
      .click();
    await page.getByRole('button', { name: 'Edit entry' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit entry' });
    expect(await edit.getByLabel('Systolic (mmHg)').inputValue()).toBe('128');
    await edit.getByLabel('Systolic (mmHg)').fill('131');
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Blood pressure 131/84 mmHg', level: 1 }).waitFor();
    await s.shot('manual-entry-edited');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Health' }).click();
    await page.waitForFunction(() => /Latest\s*131\/84/.test(document.querySelector('[data-testid="card-blood_pressure"]')?.textContent ?? ''));
  });

  it('imports FHIR labs from two units; a lab result opens its trend with the range band', async () => {
    const { page } = s;
    const fx = (name: string) => JSON.parse(readFileSync(path.join(ROOT, 'integrations/fhir/fixtures', name), 'utf8')) as Record<string, unknown>;
    const body = bundle([
      fx('observation-cbc-hemoglobin.json'),
      fx('condition-encounter-diagnosis-example1.json'),
      fx('medicationrequest-self-tylenol.json'),
      fx('allergyintolerance-example.json'),
      fx('patient-example.json'),
      usCoreLab({ id: 'g1', loinc: '2345-7', display: 'Glucose', value: 92, unit: 'mg/dL', date: '2024-01-10', low: 70, high: 99 }),
      usCoreLab({ id: 'g2', loinc: '2345-7', display: 'Glucose', value: 6.4, unit: 'mmol/L', date: '2024-05-12', low: 3.9, high: 5.5, interpretation: 'H' }),
      usCoreLab({ id: 'g3', loinc: '2345-7', display: 'Glucose', value: 104, unit: 'mg/dL', date: '2024-09-30', low: 70, high: 99 }),
      usCoreLab({ id: 'g4', loinc: '2345-7', display: 'Glucose', value: 88, unit: 'mg/dL', date: '2025-02-03', low: 70, high: 99 }),
    ]);
    const file = path.join(tmpdir(), `records-${Date.now()}.json`);
    writeFileSync(file, body);
    await page.getByLabel('Import FHIR JSON').setInputFiles(file);
    await page
      .getByTestId('import-fhir')
      .getByText(/^Imported /)
      .waitFor({ timeout: 60_000 });

    const labs = page.getByRole('region', { name: 'Lab results' });
    await labs.getByTestId('lab-2345-7').waitFor();
    expect(await labs.getByTestId('lab-2345-7').textContent()).toMatch(/Glucose\s*88 mg\/dL/);
    await page
      .getByRole('region', { name: 'Medications' })
      .getByText(/Tylenol PM/)
      .waitFor();
    await page
      .getByRole('region', { name: 'Allergies' })
      .getByText(/sulfonamide/i)
      .first()
      .waitFor();
    await page.getByRole('heading', { name: 'Records', exact: true }).scrollIntoViewIfNeeded();
    await s.shot('health-records');

    await labs.getByTestId('lab-2345-7').click();
    await page.waitForURL(/\/health\/labs\/2345-7$/);
    const chart = page.getByTestId('lab-chart');
    await chart.waitFor();
    await chart.getByTestId('reference-band').waitFor();
    expect(await chart.getByTestId('point-out-of-range').count()).toBe(2); // 115 and 104 mg/dL
    expect(await chart.getByTestId('point').count()).toBe(2);
    expect(await chart.getAttribute('aria-label')).toMatch(/Glucose in mg\/dL: 4 results .* reference range 70–99 mg\/dL, 2 outside the range/);
    expect(await page.getByRole('row').nth(3).textContent()).toMatch(/115 mg\/dL.*High/);
    await s.shot('lab-trend-mgdl');
    await page.getByRole('group', { name: 'Unit' }).getByRole('button', { name: 'mmol/L' }).click();
    await page.waitForFunction(() => /Glucose in mmol\/L/.test(document.querySelector('[data-testid="lab-chart"]')?.getAttribute('aria-label') ?? ''));
    expect(await page.getByRole('row').nth(3).textContent()).toMatch(/6\.4 mmol\/L/);
    await s.shot('lab-trend-mmol');
    // A reload (or a bookmark) of the trend page opens it again.
    await page.reload();
    await chart.getByTestId('reference-band').waitFor();
    expect(await chart.getByTestId('point').count()).toBe(2);
  });

  it('downloads the patient summary as PDF and as FHIR JSON', async () => {
    const { page } = s;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Health' }).click();
    await page.getByRole('button', { name: 'Share summary' }).click();
    const dialog = page.getByRole('dialog', { name: 'Share a summary' });
    await dialog.getByLabel('Vital-sign trends').uncheck();
    await s.shot('summary-dialog');
    const [pdf] = await Promise.all([page.waitForEvent('download'), dialog.getByRole('button', { name: 'Download PDF' }).click()]);
    expect(pdf.suggestedFilename()).toMatch(/^patient-summary-\d{4}-\d{2}-\d{2}\.pdf$/);
    const pdfBytes = readFileSync((await pdf.path())!);
    expect(pdfBytes.subarray(0, 5).toString()).toBe('%PDF-');
    const [json] = await Promise.all([page.waitForEvent('download'), dialog.getByRole('button', { name: 'Download FHIR (JSON)' }).click()]);
    expect(json.suggestedFilename()).toMatch(/^patient-summary-\d{4}-\d{2}-\d{2}\.json$/);
    const doc = JSON.parse(readFileSync((await json.path())!, 'utf8')) as {
      resourceType: string;
      type: string;
      entry: Array<{ resource: { resourceType: string } }>;
    };
    expect(doc).toMatchObject({ resourceType: 'Bundle', type: 'document' });
    expect(doc.entry[0]!.resource.resourceType).toBe('Composition');
    expect(doc.entry.some((e) => e.resource.resourceType === 'MedicationStatement')).toBe(true);
    writeFileSync(path.join(ROOT, 'test-results', 'e2e', 'health', 'summary.pdf'), pdfBytes);
    // The only console error of the whole run is the signed-out "who am I" probe before sign-up.
    expect(s.problems.filter((p) => !/status of 401/.test(p))).toEqual([]);
  });
});
