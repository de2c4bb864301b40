import helmet from '@fastify/helmet';
import type { Feature } from '../features/feature.js';

/** Security headers on every response: a strict CSP, HSTS where cookies are secure. */
export const securityHeaders: Feature = async (app, c) => {
  await app.register(helmet, {
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
};
