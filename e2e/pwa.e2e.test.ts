import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, newSession, signUp, startServer, type RunningServer, type Session } from './helpers.js';

describe('installable app: manifest, service worker, offline shell, camera capture', () => {
  let server: RunningServer;
  let browser: Browser;
  let s: Session;

  beforeAll(async () => {
    server = await startServer();
    browser = await launch();
    s = await newSession(browser, server.url, 'pwa');
    await signUp(s.page, `pwa+${Date.now()}@example.org`);
  });

  afterAll(async () => {
    await s?.context.close();
    await browser?.close();
    await server?.stop();
  });

  it('meets the installability criteria, computed here from what the browser fetched', async () => {
    const { page } = s;
    const report = await page.evaluate(async () => {
      const link = document.querySelector<HTMLLinkElement>('link[rel="manifest"]');
      const res = await fetch(link!.href);
      const m = (await res.json()) as {
        name?: string;
        short_name?: string;
        start_url: string;
        scope?: string;
        display: string;
        icons: Array<{ src: string; sizes: string; type: string }>;
      };
      const icons = await Promise.all(
        m.icons
          .filter((i) => i.type === 'image/png')
          .map(async (i) => {
            const bmp = await createImageBitmap(await (await fetch(i.src)).blob());
            return { declared: i.sizes, actual: `${bmp.width}x${bmp.height}` };
          }),
      );
      const start = new URL(m.start_url, link!.href);
      const scope = new URL(m.scope ?? '/', link!.href);
      const reg = await navigator.serviceWorker.ready;
      return {
        contentType: res.headers.get('content-type'),
        name: m.name ?? m.short_name,
        display: m.display,
        startInScope: start.origin === location.origin && start.pathname.startsWith(scope.pathname),
        icons,
        secure: window.isSecureContext,
        swScope: reg.scope,
        swActive: reg.active?.state,
      };
    });
    expect(report.contentType).toMatch(/^application\/manifest\+json/);
    expect(report.name).toBe('Context Vault');
    expect(['standalone', 'fullscreen', 'minimal-ui']).toContain(report.display);
    expect(report.startInScope).toBe(true);
    // Chrome's criteria: a 192 px and a 512 px icon, really that size.
    expect(report.icons).toEqual(
      expect.arrayContaining([
        { declared: '192x192', actual: '192x192' },
        { declared: '512x512', actual: '512x512' },
      ]),
    );
    expect(report.secure).toBe(true);
    expect(report.swScope).toBe(`${server.url}/`);
    expect(report.swActive).toBe('activated');
  });

  it('caches the app shell only: offline, the shell opens and says the server cannot be reached, and API calls fail', async () => {
    const { page, context } = s;
    await page.reload();
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
    await page.getByRole('heading', { name: 'Vault' }).waitFor();
    const cached = await page.evaluate(async () => {
      const urls: string[] = [];
      for (const k of await caches.keys()) for (const r of await (await caches.open(k)).keys()) urls.push(new URL(r.url).pathname);
      return urls;
    });
    expect(cached).toContain('/');
    expect(cached.some((u) => u.startsWith('/assets/'))).toBe(true);
    expect(cached.filter((u) => !(u === '/' || u.startsWith('/assets/') || /^\/(manifest\.webmanifest|favicon\.svg|icon-\d+\.png)$/.test(u)))).toEqual([]);

    await context.setOffline(true);
    try {
      await page.goto('/vault');
      await page.getByTestId('offline').getByText('Context Vault cannot be reached').waitFor();
      await s.shot('offline-shell');
      const api = await page.evaluate(async () => {
        try {
          const r = await fetch('/api/items');
          return `status ${r.status}`;
        } catch (e) {
          return `failed: ${(e as Error).name}`;
        }
      });
      expect(api).toBe('failed: TypeError');
    } finally {
      await context.setOffline(false);
    }
    await page.getByRole('button', { name: 'Try again' }).click();
    await page.getByRole('heading', { name: 'Vault' }).waitFor();
  });

  it('offers the camera for "Add a document" on a phone', async () => {
    const phone = await browser.newContext({ baseURL: server.url, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    try {
      const page = await phone.newPage();
      await page.goto('/signin');
      // Same account: sign in on the phone.
      const email = await s.page.evaluate(async () => (await (await fetch('/api/auth/me')).json()).user.email as string);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Passphrase').fill('quiet harbour lantern meadow 42');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL('**/vault');
      await page.getByRole('button', { name: 'Take photo' }).waitFor();
      expect(await page.locator('#vault-camera').getAttribute('capture')).toBe('environment');
      expect(await page.locator('#vault-camera').getAttribute('accept')).toBe('image/*');
      // On a desktop pointer the camera button is not offered.
      expect(await s.page.getByRole('button', { name: 'Take photo' }).count()).toBe(0);
    } finally {
      await phone.close();
    }
  });

  it('answers a missing build file with 404, not the page, and a tab whose page bundle is gone loads the new build once', async () => {
    const gone = await fetch(`${server.url}/assets/ChatPage-0ld8uild.js`);
    expect(gone.status).toBe(404);
    expect(gone.headers.get('content-type')).toMatch(/^application\/json/);
    expect((await fetch(`${server.url}/old-icon.png`)).status).toBe(404);
    const page = await fetch(`${server.url}/vault/notes`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);

    // What Vite raises when a lazy page's bundle fails to load: the tab reloads, once.
    const { page: tab } = s;
    await tab.goto('/vault');
    await tab.getByRole('heading', { name: 'Vault' }).waitFor();
    await tab.evaluate(() => sessionStorage.removeItem('cv-reloaded-for-bundle'));
    const reloaded = tab.waitForEvent('load');
    await tab.evaluate(() => window.dispatchEvent(new Event('vite:preloadError', { cancelable: true })));
    await reloaded;
    await tab.getByRole('heading', { name: 'Vault' }).waitFor();
    // A second failure within the minute is left to the page: no reload loop.
    const again = await tab.evaluate(() => {
      const e = new Event('vite:preloadError', { cancelable: true });
      window.dispatchEvent(e);
      return e.defaultPrevented;
    });
    expect(again).toBe(false);
  });
});
