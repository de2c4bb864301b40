import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Config } from '../config.js';

/**
 * Routes that take multipart/form-data, in a scope of their own with the general upload limits
 * (imports set their own; bodies are read through http/multipart.ts). Registered for the whole
 * app, multipart adds two async hooks to every request; here only upload routes pay them, and
 * any other route refuses a multipart body as an unsupported media type.
 */
export function withUploads(config: Config, routes: FastifyPluginAsyncZod): FastifyPluginAsyncZod {
  return async (scope) => {
    await scope.register(multipart, { limits: { fileSize: config.maxUploadBytes, files: 1, fields: 10, fieldSize: 64 * 1024, parts: 12 } });
    await scope.register(routes);
  };
}
