/**
 * The HTTP API's shapes, once: routes validate and serialise with these schemas (and the
 * OpenAPI document is generated from them), services and the export format type their results
 * with `z.infer`, and the web app imports the types, so a change on one side that the other
 * does not follow fails `tsc`. Depends on zod only (.dependency-cruiser.cjs).
 */
export * from './common.js';
export * from './items.js';
export * from './jobs.js';
export * from './health.js';
export * from './chat.js';
export * from './integrations.js';
export * from './account.js';
export * from './models.js';
export * from './export.js';
