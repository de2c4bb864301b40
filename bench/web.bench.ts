/**
 * The web app: (a) the production bundle's first-load size (gzip of the JS and CSS that
 * web/dist/index.html loads) against all JS the build emits, so the ratio shows how much is
 * lazy; (b) the vault list with 10,000 items in Chromium, served by the real server: time from
 * navigation to the first rows, then scrolling to the end while infinite scroll loads page after
 * page (time per page against the raw API's time per page), and frame times while scrolling,
 * each against the same measurement on a 100-item vault in the same run.
 *
 * BENCH_WEB_ITEMS shrinks the big vault (default 10000).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startBenchServer, type BenchServer } from './support/server.js';
import type { BenchResult } from './types.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'web', 'dist');
const ITEMS = Math.max(200, Number(process.env.BENCH_WEB_ITEMS ?? 10_000));
const SMALL = 100;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FIRST_LOAD_TARGET_KB = 300;
/** A fast fling: 10 rows (640 px) per animation frame, about 38,000 px/s at 60 fps. */
const STEP = 10 * 64;

const kb = (n: number) => n / 1024;
const gz = (file: string) => gzipSync(readFileSync(file), { level: 9 }).length;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))]! : NaN;
};

// ---- (a) bundle size ----

function bundleSizes(): { firstLoad: number; firstLoadFiles: string[]; allJs: number } {
  // Always a fresh production build: a web/dist left by another tool may be a development one.
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-web.mjs'), '--force'], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const html = readFileSync(path.join(DIST, 'index.html'), 'utf8');
  const files = new Set<string>();
  for (const m of html.matchAll(/<script[^>]*\bsrc="([^"]+)"/g)) files.add(m[1]!);
  for (const m of html.matchAll(/<link[^>]*\brel="(?:stylesheet|modulepreload)"[^>]*\bhref="([^"]+)"/g)) files.add(m[1]!);
  for (const m of html.matchAll(/<link[^>]*\bhref="([^"]+)"[^>]*\brel="(?:stylesheet|modulepreload)"/g)) files.add(m[1]!);
  const firstLoadFiles = [...files].filter((f) => /\.(m?js|css)$/.test(f));
  const firstLoad = firstLoadFiles.reduce((sum, f) => sum + gz(path.join(DIST, f.replace(/^\//, ''))), 0);
  const assets = path.join(DIST, 'assets');
  const allJs = readdirSync(assets)
    .filter((f) => /\.m?js$/.test(f))
    .reduce((sum, f) => sum + gz(path.join(assets, f)), 0);
  return { firstLoad, firstLoadFiles, allJs };
}

// ---- (b) vault list in Chromium ----

interface Account {
  cookie: { name: string; value: string };
  header: string;
}

async function register(server: BenchServer): Promise<Account> {
  const res = await fetch(`${server.url}/api/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `web-bench-${randomBytes(4).toString('hex')}@example.com`, passphrase: 'benchmark passphrase for the web' }),
  });
  if (res.status !== 201 && res.status !== 200) throw new Error(`register: ${res.status} ${await res.text()}`);
  const raw = res.headers.getSetCookie().find((c) => c.startsWith('cv_session='));
  if (!raw) throw new Error('no session cookie');
  const pair = raw.split(';')[0]!;
  const i = pair.indexOf('=');
  return { cookie: { name: pair.slice(0, i), value: pair.slice(i + 1) }, header: pair };
}

const WORDS = ['blood', 'pressure', 'follow-up', 'insurance', 'knee', 'physiotherapy', 'vaccine', 'allergy', 'prescription', 'dentist', 'cholesterol', 'sleep'];

/**
 * Creates `n` notes through the real API, `concurrency` requests at a time (more does not help:
 * the server's embedded database writes one at a time); returns notes per second.
 */
async function seed(server: BenchServer, acc: Account, n: number, concurrency = 8): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= n) return;
        const w = (k: number) => WORDS[(i * 7 + k) % WORDS.length];
        const res = await fetch(`${server.url}/api/items`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', cookie: acc.header },
          body: JSON.stringify({
            title: `Note ${i + 1}: ${w(0)} ${w(1)}`,
            text: `About ${w(2)} and ${w(3)}. Written for the list benchmark, number ${i + 1}.`,
            tags: [w(4)!],
          }),
        });
        if (res.status !== 201) throw new Error(`create item: ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
      }
    }),
  );
  return n / ((performance.now() - start) / 1000);
}

/** The raw API walking the same pages the list loads: milliseconds per 100-item page. */
async function apiMsPerPage(server: BenchServer, acc: Account): Promise<number> {
  let cursor: string | null = null;
  let pages = 0;
  const start = performance.now();
  do {
    const res = await fetch(`${server.url}/api/items?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { headers: { cookie: acc.header } });
    const body = (await res.json()) as { nextCursor: string | null };
    cursor = body.nextCursor;
    pages++;
  } while (cursor);
  return (performance.now() - start) / pages;
}

// Runs in the page before any script: notes when the first list row is attached.
const FIRST_ROWS_PROBE = `
  window.__firstRows = null;
  new MutationObserver((_, obs) => {
    if (document.querySelector('[aria-label="Vault items"] [role=listitem]')) {
      window.__firstRows = performance.now();
      obs.disconnect();
    }
  }).observe(document, { childList: true, subtree: true });
`;

/** Navigation start to the first rows of /vault, median of `runs` cold loads. */
async function timeToFirstRows(page: Page, url: string, runs = 3): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    await page.goto(`${url}/vault`, { waitUntil: 'commit' });
    await page.waitForFunction(() => (globalThis as unknown as { __firstRows: number | null }).__firstRows !== null, null, { timeout: 60_000 });
    times.push(await page.evaluate(() => (globalThis as unknown as { __firstRows: number }).__firstRows));
  }
  return median(times);
}

interface ScrollRun {
  totalMs: number;
  frames: number[];
  pages: Array<{ at: number; count: number; waitedMs: number }>;
  loaded: number;
  maxRowsInDom: number;
  timedOut: boolean;
}

// In-page helpers, as source text (tsx would otherwise inject its own helpers into them).
const SCROLL_HELPERS = `
  window.__bench = {
    /** Scrolls the vault list step px a frame until expected items are loaded and the end is in
     *  view, recording every frame's duration and when each page arrived. */
    scrollToEnd(expected, step, timeoutMs) {
      return new Promise((resolve) => {
        const el = document.querySelector('[data-testid="virtual-scroller"]');
        const loaded = () => Number(document.querySelector('[aria-label="Vault items"] [role=listitem]')?.getAttribute('aria-setsize') ?? 0);
        const rowsInDom = () => document.querySelectorAll('[aria-label="Vault items"] [role=listitem]').length;
        const atEnd = () => el.scrollTop + el.clientHeight >= el.scrollHeight - 2;
        const frames = [];
        const pages = [];
        const t0 = performance.now();
        let last = t0;
        let count = loaded();
        let bottomSince = null;
        let maxRows = 0;
        const frame = (now) => {
          frames.push(now - last);
          last = now;
          maxRows = Math.max(maxRows, rowsInDom());
          const c = loaded();
          if (c > count) {
            pages.push({ at: now - t0, count: c, waitedMs: bottomSince === null ? 0 : now - bottomSince });
            count = c;
            bottomSince = null;
          }
          const done = c >= expected && atEnd();
          if (done || now - t0 > timeoutMs) {
            resolve({ totalMs: now - t0, frames, pages, loaded: c, maxRowsInDom: maxRows, timedOut: !done });
            return;
          }
          el.scrollTop += step;
          if (atEnd() && bottomSince === null) bottomSince = now;
          requestAnimationFrame(frame);
        };
        requestAnimationFrame(frame);
      });
    },
    /** Scrolls a loaded list step px a frame for n frames (wrapping at the end): frame times. */
    scrollFrames(step, n) {
      return new Promise((resolve) => {
        const el = document.querySelector('[data-testid="virtual-scroller"]');
        el.scrollTop = 0;
        const frames = [];
        let last = performance.now();
        const frame = (now) => {
          frames.push(now - last);
          last = now;
          if (frames.length > n) return resolve(frames.slice(1));
          if (el.scrollTop + el.clientHeight >= el.scrollHeight - 2) el.scrollTop = 0;
          else el.scrollTop += step;
          requestAnimationFrame(frame);
        };
        requestAnimationFrame(frame);
      });
    },
  };
`;

/** Main-thread time (tasks, script, layout) Chromium spent while `fn` ran, in ms. */
async function mainThread<T>(page: Page, fn: () => Promise<T>): Promise<{ value: T; taskMs: number; scriptMs: number; layoutMs: number }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const read = async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    const m = new Map(metrics.map((x) => [x.name, x.value]));
    return {
      task: m.get('TaskDuration') ?? 0,
      script: m.get('ScriptDuration') ?? 0,
      layout: (m.get('LayoutDuration') ?? 0) + (m.get('RecalcStyleDuration') ?? 0),
    };
  };
  const a = await read();
  const value = await fn();
  const b = await read();
  await cdp.detach();
  return { value, taskMs: (b.task - a.task) * 1000, scriptMs: (b.script - a.script) * 1000, layoutMs: (b.layout - a.layout) * 1000 };
}

type BenchWindow = { __bench: { scrollToEnd(e: number, s: number, t: number): Promise<ScrollRun>; scrollFrames(s: number, n: number): Promise<number[]> } };

function scrollToEnd(page: Page, expected: number, step: number, timeoutMs: number): Promise<ScrollRun> {
  return page.evaluate(([e, s, t]) => (globalThis as unknown as BenchWindow).__bench.scrollToEnd(e!, s!, t!), [expected, step, timeoutMs]);
}

function scrollFrames(page: Page, step: number, n: number): Promise<number[]> {
  return page.evaluate(([s, k]) => (globalThis as unknown as BenchWindow).__bench.scrollFrames(s!, k!), [step, n]);
}

async function openVault(browser: Browser, server: BenchServer, acc: Account) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addCookies([{ ...acc.cookie, url: server.url }]);
  await context.addInitScript(FIRST_ROWS_PROBE + SCROLL_HELPERS);
  const page = await context.newPage();
  return { context, page };
}

export default async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];

  const b = bundleSizes();
  results.push({
    name: `first-load JS+CSS gzip (${b.firstLoadFiles.length} files from index.html)`,
    value: kb(b.firstLoad),
    unit: 'KB',
    baseline: { name: 'all emitted JS gzip', value: kb(b.allJs) },
    ratio: b.firstLoad / b.allJs,
    target: `< ${FIRST_LOAD_TARGET_KB} KB`,
    pass: kb(b.firstLoad) < FIRST_LOAD_TARGET_KB,
  });

  const server = await startBenchServer({ RATE_LIMIT_AUTH_PER_MIN: '100000' });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  try {
    const big = await register(server);
    const small = await register(server);
    const seedRate = await seed(server, big, ITEMS);
    await seed(server, small, SMALL);
    results.push({ name: `seed ${ITEMS.toLocaleString('en')} notes through POST /api/items`, value: seedRate, unit: 'notes/s' });

    // Time to the first rows: the big vault against the small one (both load one 100-item page).
    const s = await openVault(browser, server, small);
    const smallFirst = await timeToFirstRows(s.page, server.url);
    const smallRun = await mainThread(s.page, () => scrollFrames(s.page, STEP, 300));
    const smallFrames = smallRun.value;
    const smallWork = smallRun.taskMs / smallFrames.length;
    await s.context.close();

    const g = await openVault(browser, server, big);
    const bigFirst = await timeToFirstRows(g.page, server.url);
    results.push({
      name: `vault list: navigation to first rows, ${ITEMS.toLocaleString('en')} items`,
      value: bigFirst,
      unit: 'ms',
      baseline: { name: `${SMALL} items`, value: smallFirst },
      ratio: bigFirst / smallFirst,
      target: '< 1500 ms',
      pass: bigFirst < 1500,
    });

    // Scroll to the end: infinite scroll loads every page on the way.
    const scroll = await scrollToEnd(g.page, ITEMS, STEP, 150_000);
    if (scroll.timedOut) throw new Error(`scrolling stopped at ${scroll.loaded} of ${ITEMS} items`);
    const pagesLoaded = scroll.pages.length;
    const perPage = scroll.totalMs / Math.max(1, pagesLoaded);
    const apiPerPage = await apiMsPerPage(server, big);
    results.push({ name: `vault list: scroll to the end (${pagesLoaded} pages loaded)`, value: scroll.totalMs / 1000, unit: 's' });
    results.push({ name: `vault list: time per 100-item page while scrolling (${(100 * 64) / STEP} frames of scrolling each)`, value: perPage, unit: 'ms' });
    // 0 for a page that arrived before the end came into view.
    const waited = median(scroll.pages.map((p) => p.waitedMs));
    results.push({
      name: 'vault list: wait at the bottom for the next page (median)',
      value: waited,
      unit: 'ms',
      baseline: { name: 'raw API GET /api/items page from Node', value: apiPerPage },
      ratio: waited / apiPerPage,
    });
    const loadingP95 = pct(scroll.frames, 0.95);
    results.push({
      name: 'frame time p95 while scrolling and loading pages',
      value: loadingP95,
      unit: 'ms',
      baseline: { name: `${SMALL}-item list, same scroll speed`, value: pct(smallFrames, 0.95) },
      ratio: loadingP95 / pct(smallFrames, 0.95),
    });

    // The whole list loaded: the same fling through it again, every page already there.
    const bigRun = await mainThread(g.page, () => scrollFrames(g.page, STEP, 300));
    const bigFrames = bigRun.value;
    const fullP95 = pct(bigFrames, 0.95);
    const smallP95 = pct(smallFrames, 0.95);
    results.push({
      name: `frame time p95 scrolling ${ITEMS.toLocaleString('en')} loaded items`,
      value: fullP95,
      unit: 'ms',
      baseline: { name: `${SMALL}-item list`, value: smallP95 },
      ratio: fullP95 / smallP95,
      target: '≤ 1.5× the small list',
      pass: fullP95 / smallP95 <= 1.5,
    });
    const bigWork = bigRun.taskMs / bigFrames.length;
    results.push({
      name: 'main-thread work per frame scrolling the loaded list (CDP TaskDuration)',
      value: bigWork,
      unit: 'ms',
      baseline: { name: `${SMALL}-item list`, value: smallWork },
      ratio: bigWork / smallWork,
      target: '< 16.7 ms (fits a 60 fps frame)',
      pass: bigWork < 16.7,
    });
    results.push({ name: 'frame time mean scrolling the loaded list', value: bigFrames.reduce((a, x) => a + x, 0) / bigFrames.length, unit: 'ms' });
    results.push({
      name: 'most list rows in the DOM at once',
      value: scroll.maxRowsInDom,
      unit: 'rows',
      target: '< 60 (virtualised)',
      pass: scroll.maxRowsInDom < 60,
    });
    await g.context.close();
  } finally {
    await browser.close();
    await server.stop();
  }
  return results;
}
