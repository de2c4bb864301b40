/**
 * A `Retry-After` header (delay-seconds or an HTTP date, RFC 9110 §10.2.3) as milliseconds from
 * `now`; null when absent or unreadable. A date in the past is 0.
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - now) : null;
}

/**
 * Longest a provider may hold off the next sync: a Retry-After beyond it (a broken header, a
 * date years ahead) would otherwise stop syncing for good.
 */
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/** When a provider asked to be tried again, `waitMs` from now, capped at {@link MAX_RETRY_AFTER_MS}. */
export function retryAtAfter(waitMs: number, now = Date.now()): Date {
  return new Date(now + Math.min(Math.max(0, waitMs), MAX_RETRY_AFTER_MS));
}
