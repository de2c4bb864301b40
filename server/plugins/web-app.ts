import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { PROJECT_ROOT } from '../compiled.js';
import { notFound } from '../errors.js';
import type { Feature } from '../features/feature.js';
import { isApiRequest } from '../http/session.js';

const WEB_DIST = path.join(fileURLToPath(PROJECT_ROOT), 'web', 'dist');

/** Whether the web app was built (web/dist); without it the server is API only. */
export const hasWebApp = (): boolean => existsSync(path.join(WEB_DIST, 'index.html'));

/**
 * A missing build file (an old tab asking for the bundles of the build before an upgrade) is a
 * 404, never the app's page: a script answered with HTML fails with a MIME error the app cannot
 * tell apart, while a 404 lets it load the new build.
 */
function isAsset(url: string): boolean {
  const pathname = url.split('?', 1)[0]!;
  return pathname.startsWith('/assets/') || /\.(?:m?js|css|map|png|jpe?g|svg|ico|webp|woff2?|ttf|webmanifest|wasm)$/i.test(pathname);
}

/** The built single-page app and the not-found handler; registered after every route. */
export const webApp: Feature = async (app) => {
  const hasWeb = hasWebApp();
  if (hasWeb) await app.register(fastifyStatic, { root: WEB_DIST, wildcard: false, index: 'index.html' });
  app.setNotFoundHandler((req, reply) => {
    // Any non-API GET is a page of the single-page app. Under /health (the app's Health pages,
    // beside the liveness probes) only a browser asking for HTML gets the app, so a monitor's
    // mistyped probe path is still a 404, not a page that looks healthy.
    const page = (!req.url.startsWith('/health') || /\btext\/html\b/.test(req.headers.accept ?? '')) && !isAsset(req.url);
    if (hasWeb && req.method === 'GET' && !isApiRequest(req) && page) {
      return reply.type('text/html').sendFile('index.html');
    }
    throw notFound('Route');
  });
};
