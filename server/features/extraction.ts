import { extractionRoutes } from '../routes/extraction/index.js';
import type { Feature } from './feature.js';

/** Text extraction and OCR of uploaded files: status and "Read again". */
export const extraction: Feature = async (app, c) => {
  await app.register(extractionRoutes({ extraction: c.extraction }));
};
