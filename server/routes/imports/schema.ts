import { z } from 'zod';

export const JobSchema = z.object({
  id: z.string(),
  kind: z.string(),
  status: z.enum(['queued', 'running', 'done', 'failed']),
  progress: z.object({ done: z.number(), total: z.number().optional(), unit: z.string() }),
  result: z.object({ imported: z.record(z.string(), z.number()), skipped: z.record(z.string(), z.string()).optional() }).optional(),
  error: z.string().optional(),
  /** Integration syncs (kind `sync:<provider>`): the failure's code. */
  errorCode: z.string().optional(),
});

export const JobList = z.object({ jobs: z.array(JobSchema) });

export const JobAccepted = z.object({ jobId: z.string() });

export const ListJobsQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) });

/** Content types of FHIR bodies, and what each means. */
export const FHIR_TYPES = {
  'application/json': 'json',
  'application/fhir+json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/fhir+ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
} as const;
