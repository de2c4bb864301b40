/*
 * Context Vault service worker: caches the app shell ONLY (index.html, the hashed /assets/
 * bundles, icons, manifest) so the app opens from a phone's home screen and says plainly when
 * the server cannot be reached. It never caches an API response, a file or anything decrypted:
 * the server's own endpoints (below) are not intercepted at all, so they reach the network or fail.
 */
const CACHE = 'cv-shell-v1';
const STATIC = ['/', '/manifest.webmanifest', '/favicon.svg', '/icon-192.png', '/icon-512.png'];
// `/health` itself is not here: like the server, which answers it with the app to a browser asking
// for a page and with JSON to a probe, a page visit there gets the shell, and a probe's fetch is
// never intercepted (only page visits and shell assets are). The app's `/health/labs/…` pages too.
const HEALTH_PROBES = ['/health/db', '/health/storage', '/health/ollama'];

const isShellAsset = (url) => url.origin === self.location.origin && (url.pathname.startsWith('/assets/') || STATIC.includes(url.pathname));
const isServerPath = (url) =>
  url.pathname.startsWith('/api/') ||
  url.pathname === '/api' ||
  HEALTH_PROBES.includes(url.pathname) ||
  url.pathname.startsWith('/docs') ||
  url.pathname === '/metrics';

/** The shell's bundles are named in index.html; fetch it and cache what it references. */
async function cacheShell() {
  const cache = await caches.open(CACHE);
  const res = await fetch('/', { cache: 'no-store' });
  if (!res.ok) throw new Error(`app shell: ${res.status}`);
  const html = await res.clone().text();
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
  await cache.put('/', res);
  await cache.addAll([...STATIC.filter((p) => p !== '/'), ...assets]);
}

self.addEventListener('install', (event) => {
  event.waitUntil(cacheShell().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || isServerPath(url)) return;
  if (req.mode === 'navigate') {
    // Pages: the network first (a new deployment wins), the cached shell when offline.
    event.respondWith(fetch(req).catch(async () => (await caches.match('/', { cacheName: CACHE })) ?? Response.error()));
    return;
  }
  if (isShellAsset(url)) {
    event.respondWith(
      caches.match(req, { cacheName: CACHE }).then(
        (hit) =>
          hit ??
          fetch(req).then(async (res) => {
            // Hashed bundles never change; keep new ones after a deployment.
            if (res.ok && url.pathname.startsWith('/assets/')) await (await caches.open(CACHE)).put(req, res.clone());
            return res;
          }),
      ),
    );
  }
});
