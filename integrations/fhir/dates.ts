/**
 * FHIR date and dateTime handling. Dates are kept as the source wrote them: a visit at
 * 00:30 +01:00 belongs to that local day, which converting to UTC would lose.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** FHIR date / dateTime / instant: YYYY, YYYY-MM, YYYY-MM-DD, or a date with a time and offset. */
const FHIR_DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?)?)?$/;

interface DateParts {
  year: number;
  month?: number;
  day?: number;
  hour?: number;
  minute?: number;
  second?: number;
  offset?: string;
}

/** Days in a month (1–12): a day it does not have (2024-02-30) is no date, which Date would make 1 March. */
function daysIn(year: number, month: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month, 0); // not Date.UTC, which reads years 0–99 as 1900–1999
  return d.getUTCDate();
}

function parts(iso: string): DateParts | undefined {
  const m = FHIR_DATE.exec(iso.trim());
  if (!m) return undefined;
  const p: DateParts = { year: Number(m[1]) };
  if (m[2] !== undefined) p.month = Number(m[2]);
  if (m[3] !== undefined) p.day = Number(m[3]);
  if (m[4] !== undefined) p.hour = Number(m[4]);
  if (m[5] !== undefined) p.minute = Number(m[5]);
  if (m[6] !== undefined) p.second = Number(m[6]);
  if (m[7] !== undefined) p.offset = m[7];
  if (p.month !== undefined && (p.month < 1 || p.month > 12)) return undefined;
  if (p.day !== undefined && (p.day < 1 || p.day > daysIn(p.year, p.month!))) return undefined;
  return p;
}

/** True when `s` is a FHIR date, dateTime or instant. */
export function isFhirDate(s: unknown): boolean {
  return typeof s === 'string' && parts(s) !== undefined;
}

/**
 * A date for people: "5 Oct 2026", "Oct 2026" or "2026" (as precise as the source). With
 * `time`, a dateTime also gets its local wall-clock time as written: "19 Nov 2020, 12:46".
 * Text that is not a FHIR date comes back unchanged, so a caller never loses information.
 */
export function describeDate(iso: string, opts: { time?: boolean } = {}): string {
  const p = parts(iso);
  if (!p) return iso;
  if (p.month === undefined) return String(p.year);
  const mon = MONTHS[p.month - 1] ?? String(p.month);
  if (p.day === undefined) return `${mon} ${p.year}`;
  const date = `${p.day} ${mon} ${p.year}`;
  if (!opts.time || p.hour === undefined) return date;
  return `${date}, ${String(p.hour).padStart(2, '0')}:${String(p.minute ?? 0).padStart(2, '0')}`;
}

/**
 * The calendar date as written ("2026-06-01T00:30:05+01:00" -> "2026-06-01"), or undefined when
 * the source gives less than a full date.
 */
export function localDateOf(iso: string): string | undefined {
  const p = parts(iso);
  if (!p || p.day === undefined) return undefined;
  return iso.trim().slice(0, 10);
}

/**
 * Epoch milliseconds of a FHIR date or dateTime, or undefined when it is less precise than a day
 * or invalid. A bare date is taken as midnight UTC and a time without an offset as UTC: the
 * machine's own zone would make the result depend on where the import ran.
 */
export function instantMs(iso: string): number | undefined {
  const p = parts(iso);
  if (!p || p.month === undefined || p.day === undefined) return undefined;
  let ms = Date.UTC(p.year, p.month - 1, p.day, p.hour ?? 0, p.minute ?? 0, p.second ?? 0);
  const frac = /:\d{2}(\.\d+)/.exec(iso);
  if (frac?.[1]) ms += Math.floor(Number(frac[1]) * 1000);
  if (p.offset && p.offset !== 'Z') {
    const sign = p.offset.startsWith('-') ? -1 : 1;
    const digits = p.offset.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
  }
  return Number.isFinite(ms) ? ms : undefined;
}
