import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../../api/client';
import type { Job } from '../../api/types';

/**
 * Polls a job at `url(id)` every `intervalMs` until `isFinished` says so, then calls
 * `onFinished` once. Shared by health imports and integration syncs.
 */
export function usePolledJob<T>(url: (id: string) => string, isFinished: (job: T) => boolean, onFinished?: (job: T) => void, intervalMs = 500) {
  const [jobId, setJobId] = useState<string | null>(null);
  const [job, setJob] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const finished = useRef(onFinished);
  finished.current = onFinished;
  const spec = useRef({ url, isFinished });
  spec.current = { url, isFinished };

  useEffect(() => {
    if (!jobId) return;
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const j = await api.get<T>(spec.current.url(jobId));
        if (stop) return;
        setJob(j);
        if (spec.current.isFinished(j)) {
          finished.current?.(j);
          return;
        }
      } catch (e) {
        if (stop) return;
        setError(e);
        return;
      }
      timer = setTimeout(tick, intervalMs);
    };
    void tick();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [jobId, intervalMs]);

  const start = useCallback((id: string) => {
    setJob(null);
    setError(null);
    setJobId(id);
  }, []);
  const reset = useCallback(() => {
    setJobId(null);
    setJob(null);
    setError(null);
  }, []);

  return { jobId, job, error, start, reset };
}

/** Polls GET /api/jobs/:id until the job is done or failed. */
export function useJob(onFinished?: (job: Job) => void, intervalMs = 500) {
  return usePolledJob<Job>(
    (id) => `/api/jobs/${encodeURIComponent(id)}`,
    (j) => j.status === 'done' || j.status === 'failed',
    onFinished,
    intervalMs,
  );
}

export function jobFraction(job: Job | null): number | null {
  if (!job) return 0;
  if (job.status === 'done') return 1;
  const { done, total } = job.progress ?? { done: 0 };
  if (!total) return null;
  return Math.min(1, done / total);
}

export function jobErrorMessage(job: Job): string {
  // The contract says a sentence; read it defensively anyway (an `{ code, message }` object, as
  // other error bodies have, still shows its message).
  const e: unknown = job.error;
  if (typeof e === 'string' && e) return e;
  if (e && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string') return (e as { message: string }).message;
  return 'The import failed.';
}
