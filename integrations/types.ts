/**
 * What every integration hands to the server. Integrations are pure: they parse a provider's
 * data into these shapes, and the server encrypts and stores them.
 */

/** Where a record came from; matches the API's `source` values. */
export type RecordSource = 'manual' | 'upload' | 'fhir' | 'epic' | 'fitbit' | 'google_health' | 'apple_health';

/**
 * One vault record produced by an integration (a FHIR resource, an Apple Health workout, ...).
 *
 * `type` is the record's primary code: a bare LOINC code ("8480-6"), a bare HealthKit identifier
 * ("HKQuantityTypeIdentifierHeartRate", "HKWorkoutActivityTypeRunning"), or `<system>:<code>` for
 * other systems ("snomed:44054006", "rxnorm:313782", "cvx:140"), or `fhir:<ResourceType>` when a
 * resource carries no usable code.
 */
export interface RecordInput {
  kind: 'record' | 'document';
  source: RecordSource;
  type: string;
  /** Stable id within the source, used to never store the same thing twice ("Observation/123"). */
  externalId: string;
  /**
   * The identity an earlier version stored this record under, before FHIR ids were qualified by
   * their server ("Observation/123"): a stored record with it, of unknown origin, is this one.
   */
  legacyExternalId?: string;
  /** Changes when the source's content changes (meta.versionId, meta.lastUpdated, or a hash). */
  externalVersion: string;
  /** ISO 8601, as precise as the source gives it, or null when the source has no date. */
  occurredAt: string | null;
  /** Short and readable: "Blood pressure 131/84 mmHg". */
  title: string;
  /** A readable paragraph for people, search and the model. */
  text: string;
  tags: string[];
  /** Structured content: the original resource plus normalised values. Stored encrypted. */
  data: Record<string, unknown>;
  /** Embedded files (FHIR attachments): become encrypted files linked to the record. */
  attachments?: Array<{ name: string; contentType: string; bytes: Uint8Array }>;
  /**
   * Stands in for content the upload lacked (an Apple Health ClinicalRecord without its JSON):
   * stored only while nothing has its identity, so an upload with less never erases the content.
   */
  placeholder?: true;
  /**
   * Samples read from this record (an Observation's value) that travel with it: stored with the
   * record, kept out with it (an older revision), and not counted apart from it.
   */
  samples?: QuantitySample[];
}

/**
 * One numeric sample of a health time series. Samples are stored in encrypted chunks of one
 * (user, type, local day): see `integrations/series/`.
 */
export interface QuantitySample {
  /** Same code rules as {@link RecordInput.type}. */
  type: string;
  /** UCUM where the source gives it ("mm[Hg]", "/min", "kg", "count"). */
  unit: string;
  /** Start as epoch milliseconds (UTC instant). */
  startMs: number;
  /** End as epoch milliseconds; equals startMs for instantaneous samples. */
  endMs: number;
  /**
   * The local calendar date (YYYY-MM-DD) of the start as the source wrote it: Apple's
   * "2026-06-01 00:30:05 +0100" is 2026-06-01 even though it is 2026-05-31 in UTC.
   */
  localDate: string;
  value: number;
  /** Device or app that recorded it ("Apple Watch", "Charge 6"); used to avoid double counting. */
  sourceName: string;
}

/** Progress of a long import, reported as work goes. */
export interface ImportProgress {
  done: number;
  total?: number;
  unit: 'bytes' | 'records' | 'resources' | 'files' | 'pages';
}
