/** The shapes every FHIR transform entry point shares. */
import type { QuantitySample, RecordInput, RecordSource } from '../types.js';

/**
 * How deep one resource may nest objects and arrays. Real resources nest about 10 to 15 levels
 * (a QuestionnaireResponse's items or nested extensions a few more); deeper input is hostile or
 * broken, and the transform's recursive walks (hashing, cloning, generic text) could not follow
 * thousands of levels. Well under the API's 100 (server/http/validator.ts), so a stored record
 * holding the resource can still be sent back through any route.
 */
export const MAX_RESOURCE_DEPTH = 64;

/** Options for every transform entry point. */
export interface TransformOptions {
  /** Value of `RecordInput.source`; defaults to 'fhir'. */
  source?: RecordSource;
  /**
   * Looks up a referenced resource ("Medication/123", a Bundle entry's fullUrl). Bundles resolve
   * their own entries; a caller that fetched referenced resources separately can supply more.
   */
  resolve?: (reference: string) => unknown;
  /**
   * The FHIR server every resource comes from (a sync's connection base URL). Part of each
   * record's identity, since ids are unique only within one server; it takes precedence over what
   * a Bundle's fullUrls say, so a sync's identities stay the same from one sync to the next.
   * Without it, the input's own fullUrls decide (see origin.ts).
   */
  origin?: string;
}

/** Something the transformer did not turn into a record, reported for the user or the log. */
export interface FhirIssue {
  severity: 'fatal' | 'error' | 'warning' | 'information';
  /**
   * operation-outcome: an OperationOutcome from the server (Epic adds one to many searches);
   * invalid-line: an NDJSON line that is not a resource; invalid-entry: a Bundle entry without a
   * usable resource; attachment: an attachment that could not be decoded; duplicate: the same
   * resource version seen twice in one input; too-deep: a resource nested more than
   * {@link MAX_RESOURCE_DEPTH} levels, not imported; server-metadata: a resource in which a FHIR
   * server describes itself (a CapabilityStatement), not health data, not imported.
   */
  kind: 'operation-outcome' | 'invalid-line' | 'invalid-entry' | 'attachment' | 'duplicate' | 'too-deep' | 'server-metadata';
  message: string;
  /** 1-based NDJSON line. */
  line?: number;
  /** 0-based Bundle entry index. */
  entry?: number;
  /** "Type/id" of the resource concerned, where known. */
  resource?: string;
  /** An OperationOutcome issue's own code ("not-found", "forbidden"), where it has one. */
  code?: string;
  /** An OperationOutcome issue's details and diagnostics, as the server wrote them. */
  details?: string;
}

/** What a transform produces. */
export interface TransformResult {
  records: RecordInput[];
  samples: QuantitySample[];
  issues: FhirIssue[];
}

/** Input that is not FHIR at all (not JSON, or JSON without a `resourceType`). */
export class FhirInputError extends Error {
  override readonly name = 'FhirInputError';
  constructor(message: string) {
    super(message);
  }
}
