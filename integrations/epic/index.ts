export {
  discoverSmart,
  smartProvider,
  smartScopes,
  smartAuthorizeParams,
  smartAuthorizeUrl,
  usesV2Scopes,
  canVerifyIdToken,
  normalizeBase,
  type SmartConfiguration,
} from './smart.js';
export { FhirClient, EpicError, outcomeText, type AccessTokenSource, type EpicErrorCode, type FhirClientOptions } from './fhir-client.js';
export { syncEpic, lastUpdatedTypes, EPIC_SEARCHES, type EpicSink, type EpicSyncResult } from './sync.js';
