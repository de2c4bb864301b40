import { z } from 'zod';

/** Every 4xx/5xx body: a stable code and a sentence to show (never a stack trace). */
export const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
export type ErrorBody = z.infer<typeof ErrorBody>;

/**
 * Bidi embeddings, overrides and isolates (LRE, RLE, PDF, LRO, RLO; LRI, RLI, FSI, PDI): one in a
 * name reorders the text after it wherever the name is shown (U+202E turns `bicycle?` into
 * `?elcycib`).
 */
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/g;

/** `text` without bidi controls, for a name made from other text (a chat's first question). */
export function stripBidiControls(text: string): string {
  return text.replace(BIDI_CONTROLS, '');
}

/**
 * Whether `text` shows anything: more than whitespace and format characters (Unicode `Cf`: zero-
 * width spaces and joiners, U+2060, U+FEFF, bidi marks), which render as nothing at all.
 */
export function isVisible(text: string): boolean {
  return /[^\s\p{Cf}]/u.test(text);
}

/**
 * A name a person gives something (a folder, an API token, a chat): one line, trimmed, never
 * empty or invisible, without control characters (a tab, a newline or an escape sequence in a
 * name only breaks the lists and logs it is shown in), bidi controls, or a lone surrogate half
 * (not text: an export writes it as U+FFFD).
 */
export function nameField(max: number) {
  return (
    z
      .string()
      .trim()
      .min(1, { message: 'must not be empty', abort: true })
      .max(max)
      .refine(isVisible, 'must not be empty')
      // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
      .refine((v) => !/[\u0000-\u001f\u007f-\u009f]/.test(v), 'must not contain control characters')
      .refine((v) => v.search(BIDI_CONTROLS) < 0, 'must not contain bidi override or isolate characters')
      .refine((v) => !/\p{Cs}/u.test(v), 'must not contain a lone surrogate')
  );
}

/**
 * An id the API takes (a path's `:id`, a folder or chat reference): rows are keyed by UUIDs, so
 * anything else is a 400, not a 404. Read in lowercase: PostgreSQL finds a row by either case,
 * but sealed rows bind their id, as the server wrote it, into the ciphertext.
 */
export const Id = z.uuid({ message: 'must be a valid id' }).overwrite((v) => v.toLowerCase());

export const IdParams = z.object({ id: Id });

/**
 * A year or a month alone (`2024`, `2024-02`): ISO 8601 dates with no day to check. Years have
 * four digits: ISO's expanded years (`-000001`, `+010000`) are nothing a vault records, and code
 * reading years (cursors, roll-ups, the dashboard) reads four digits.
 */
const ISO_YEAR_OR_MONTH = /^(\d{4})(?:-\d{2})?$/;
/** The day an ISO 8601 date or date-time starts with (`2024-02-29`, `…T10:00:00+01:00`, `… 10:00`). */
const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})(?![^Tt ])/;

/**
 * Whether `value` is an ISO 8601 date or date-time that `Date` reads and whose day is on the
 * calendar. `Date` rolls an impossible day over (`2024-02-30` reads as March 1, in any time
 * zone), so the day as written is read back through UTC and must come out the same. Every
 * schema that takes a date or a date-time uses this.
 */
export function isRealDate(value: string): boolean {
  if (Number.isNaN(new Date(value).getTime())) return false;
  const ym = ISO_YEAR_OR_MONTH.exec(value);
  if (ym) return Number(ym[1]) >= 1;
  const m = ISO_DAY.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const day = new Date(0);
  day.setUTCFullYear(y, mo - 1, d); // not Date.UTC, which reads years 0–99 as 1900–1999
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) return false;
  // The instant must fall on or next to the day written (a time of day and an offset move it
  // less than two days): `Date` reads `0050-06-01 10:00` as 1950. Year 0 is 1 BC, and so is an
  // instant east of UTC early on 0001-01-01: neither is a date anyone stores here.
  const at = new Date(value);
  return y >= 1 && at.getUTCFullYear() >= 1 && Math.abs(at.getTime() - day.getTime()) < 2 * 86_400_000;
}

/** A date or date-time on the calendar (query filters, `occurredAt`): `2024-02-29`, `2024-02-29T10:00:00+01:00`. */
export const IsoDate = z.string().refine(isRealDate, 'must be a real ISO 8601 date');

/** A calendar day with no time zone (health views work in the record's own local days). */
export const LocalDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date (YYYY-MM-DD)')
  .refine(isRealDate, 'must be a real date');

/** An IANA time zone name as a browser reports it (`Europe/Berlin`), and one this server knows. */
export const TimeZone = z
  .string()
  .max(64)
  .regex(/^[A-Za-z0-9_+\-/]+$/)
  .refine(isTimeZone, 'must be an IANA time zone (such as Europe/Berlin)');

/** Whether Intl knows the zone: a name it does not (`Mars/Olympus`) would silently mean UTC. */
function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
