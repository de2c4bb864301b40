/** Apple Health export import: see import.ts for the entry point. */
export {
  importAppleHealth,
  createSeriesSink,
  type ImportOptions,
  type ImportResult,
  type FhirTransform,
  type ChunkStore,
  type SeriesSinkLimits,
} from './import.js';
export {
  parseExportXml,
  stripControlChars,
  ControlCharStripper,
  checkDoctype,
  type AppleHealthSink,
  type ParseOptions,
  type ParseResult,
  type ClinicalResolver,
  type TransformOutput,
} from './parse.js';
export { openAppleHealthZip, unsafeEntryName, type ZipLimits, type AppleHealthZip } from './zip.js';
export { ImportError, isImportError, type ImportErrorCode } from './errors.js';
export { parseAppleDate, appleDateToIso } from './dates.js';
export { appleUnitToUcum } from './build.js';
