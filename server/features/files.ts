import { filesRoutes } from '../routes/files/index.js';
import { withUploads } from '../plugins/uploads.js';
import type { Feature } from './feature.js';

/** Encrypted file uploads and downloads. */
export const files: Feature = async (app, c) => {
  await app.register(
    withUploads(c.config, filesRoutes({ files: c.files, maxUploadBytes: c.config.maxUploadBytes, maxImportBytes: c.config.MAX_IMPORT_MB * 1024 * 1024 })),
  );
};
