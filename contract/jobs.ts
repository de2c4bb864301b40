import { z } from 'zod';

/**
 * One jobs API: every job id a route answers (imports, export re-imports, re-extraction, vault
 * upgrades, integration syncs) is read at `GET /api/jobs/:id` in this shape.
 */
export const JobStatus = z.enum(['queued', 'running', 'done', 'failed']);
export type JobStatus = z.infer<typeof JobStatus>;

/**
 * Something the person should know about a finished import (an assumption made, data left
 * aside). `code` is stable; `message` is a fixed sentence for people, which names no file, value or
 * record; `count`, where given, is how many things it concerns (files, entries).
 */
export const JobWarning = z.object({ code: z.string(), message: z.string(), count: z.number().int().nonnegative().optional() });
export type JobWarning = z.infer<typeof JobWarning>;

export const Job = z.object({
  id: z.string(),
  /** `fhir`, `apple_health`, `fitbit`, `export`, `extract`, ..., or `sync:<provider>`. */
  kind: z.string(),
  status: JobStatus,
  progress: z.object({ done: z.number(), total: z.number().optional(), unit: z.string() }),
  result: z
    .object({
      imported: z.record(z.string(), z.number()),
      skipped: z.record(z.string(), z.string()).optional(),
      /** Absent where there are none, and from jobs that finished before warnings were kept. */
      warnings: z.array(JobWarning).optional(),
    })
    .optional(),
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
