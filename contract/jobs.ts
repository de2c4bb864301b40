import { z } from 'zod';

/**
 * One jobs API: every job id a route answers (imports, export re-imports, re-extraction, vault
 * upgrades, integration syncs) is read at `GET /api/jobs/:id` in this shape.
 */
export const JobStatus = z.enum(['queued', 'running', 'done', 'failed']);
export type JobStatus = z.infer<typeof JobStatus>;

export const Job = z.object({
  id: z.string(),
  /** `fhir`, `apple_health`, `fitbit`, `export`, `extract`, ..., or `sync:<provider>`. */
  kind: z.string(),
  status: JobStatus,
  progress: z.object({ done: z.number(), total: z.number().optional(), unit: z.string() }),
  result: z.object({ imported: z.record(z.string(), z.number()), skipped: z.record(z.string(), z.string()).optional() }).optional(),
  /** A sentence to show. */
  error: z.string().optional(),
  /** Which failure it was (`reauth_required`, `rate_limited`, `server_restarted`...), where known. */
  errorCode: z.string().optional(),
});
export type Job = z.infer<typeof Job>;

export const JobList = z.object({ jobs: z.array(Job) });
export type JobList = z.infer<typeof JobList>;

/** 202 from every route that starts a job. */
export const JobAccepted = z.object({ jobId: z.string() });
export type JobAccepted = z.infer<typeof JobAccepted>;

export const ListJobsQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) });
