import { z } from 'zod';

/** Every 4xx/5xx body: a stable code and a sentence to show (never a stack trace). */
export const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
export type ErrorBody = z.infer<typeof ErrorBody>;

/** `:id` in a path: rows are keyed by UUIDs, so anything else is a 400, not a 404. */
export const IdParams = z.object({ id: z.uuid({ message: 'must be a valid id' }) });

/** A date or date-time that `Date` can read (query filters, `occurredAt`). */
export const IsoDate = z.string().refine((v) => !Number.isNaN(new Date(v).getTime()), 'must be an ISO 8601 date');

/** A calendar day with no time zone (health views work in the record's own local days). */
export const LocalDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date (YYYY-MM-DD)')
  .refine((v) => !Number.isNaN(Date.parse(`${v}T00:00:00Z`)), 'must be a real date');

/** An IANA time zone name as a browser reports it (`Europe/Berlin`). */
export const TimeZone = z
  .string()
  .max(64)
  .regex(/^[A-Za-z0-9_+\-/]+$/);
