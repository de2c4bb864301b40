import multipart from '@fastify/multipart';
import type { Feature } from '../features/feature.js';

/** multipart/form-data with the general upload limits (imports set their own); read through http/multipart.ts. */
export const uploads: Feature = async (app, c) => {
  await app.register(multipart, { limits: { fileSize: c.config.maxUploadBytes, files: 1, fields: 10, fieldSize: 64 * 1024, parts: 12 } });
};
