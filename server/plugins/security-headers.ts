import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';
import type { Feature } from '../features/feature.js';

/**
 * Security headers on every response: a strict CSP, HSTS where cookies are secure. Helmet's
 * headers depend only on its options here, so they are computed once at start and set by one
 * synchronous hook (its Fastify plugin rebuilt the middleware, re-parsing the CSP, in two async
 * hooks on every request).
 */
export const securityHeaders: Feature = async (app, c) => {
  const headers = helmetHeaders({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // Radix dialogs inject a small <style> for scroll locking.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        connectSrc: ["'self'"],
        workerSrc: ["'self'", 'blob:'],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        upgradeInsecureRequests: c.config.secureCookies ? [] : null,
      },
    },
    strictTransportSecurity: c.config.secureCookies,
    crossOriginEmbedderPolicy: false,
  });
  app.addHook('onRequest', (req, reply, done) => {
    reply.headers(headers);
    done();
  });
};

/** The headers helmet's middleware sets with these options (it reads nothing of the request). */
function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader: (name: string, value: string) => void (headers[name.toLowerCase()] = value),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  let failed: unknown;
  helmet(options)({} as IncomingMessage, res as unknown as ServerResponse, (err?: unknown) => (failed = err));
  if (failed) throw failed;
  return headers;
}
