import rateLimit from '@fastify/rate-limit';
import type { Feature } from '../features/feature.js';

/**
 * Per-route rate limits (routes set their own); counted in PostgreSQL when instances share it,
 * in memory with embedded PGlite.
 */
export const rateLimits: Feature = async (app, c) => {
  await app.register(rateLimit, { global: false, ...(c.rateLimitStore ? { store: c.rateLimitStore } : {}) });
};
