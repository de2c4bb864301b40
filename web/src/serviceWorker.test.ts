// @vitest-environment node
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';

const ORIGIN = 'https://vault.example';
const SHELL = new Response('<!doctype html><title>Context Vault</title>', { headers: { 'content-type': 'text/html' } });

interface FetchEvent {
  request: { method: string; url: string; mode: string };
  respondWith: (answer: Promise<Response>) => void;
}

/** public/sw.js as the browser runs it, with the server down and the app shell in its cache. */
function offlineWorker(): (event: FetchEvent) => void {
  const source = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../public/sw.js'), 'utf8');
  const handlers = new Map<string, (event: FetchEvent) => void>();
  runInNewContext(source, {
    self: { location: new URL(ORIGIN), addEventListener: (type: string, fn: (event: FetchEvent) => void) => handlers.set(type, fn) },
    caches: { match: async (key: string) => (key === '/' ? SHELL : undefined) },
    fetch: () => Promise.reject(new TypeError('Failed to fetch')),
    URL,
    Response,
  });
  return handlers.get('fetch')!;
}

/** What the worker answers offline, or 'network' when it leaves the request alone. */
async function offlineAnswer(path: string, mode: 'navigate' | 'cors'): Promise<Response | 'network'> {
  let answer: Promise<Response> | undefined;
  offlineWorker()({ request: { method: 'GET', url: ORIGIN + path, mode }, respondWith: (a) => (answer = a) });
  return answer ?? 'network';
}

describe('the service worker while the server is down', () => {
  it.each(['/health', '/health/labs/718-7', '/vault', '/settings'])('opens the app shell for a page visit to %s', async (path) => {
    expect(await offlineAnswer(path, 'navigate')).toBe(SHELL);
  });

  it.each(['/health/db', '/health/storage', '/health/ollama', '/api/items', '/metrics', '/docs'])(
    'leaves the server endpoint %s to the network, even when visited as a page',
    async (path) => {
      expect(await offlineAnswer(path, 'navigate')).toBe('network');
    },
  );

  it('leaves a probe fetching /health to the network, as the server answers it with JSON', async () => {
    expect(await offlineAnswer('/health', 'cors')).toBe('network');
  });
});
