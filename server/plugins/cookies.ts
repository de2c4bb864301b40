import cookie from '@fastify/cookie';
import type { Feature } from '../features/feature.js';

/** Cookie parsing and setting (the session cookie, the sealed OAuth state cookies). */
export const cookies: Feature = async (app) => {
  await app.register(cookie);
};
