/** Content types of FHIR bodies, and what each means. */
export const FHIR_TYPES = {
  'application/json': 'json',
  'application/fhir+json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/fhir+ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
} as const;
