import { filesRoutes } from '../routes/files/index.js';
import type { Feature } from './feature.js';

/** Encrypted file uploads and downloads. */
export const files: Feature = async (app, c) => {
  await app.register(filesRoutes({ files: c.files }));
};
