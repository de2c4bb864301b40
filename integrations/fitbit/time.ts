/**
 * Time-zone arithmetic with Intl only. Fitbit archives mix UTC and naive local timestamps, so
 * every family needs either "instant -> local date" or "naive local -> instant" in the user's
 * IANA zone.
 */

import { isRealDateTime } from '../calendar.js';

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when `timeZone` is an IANA zone name this runtime knows. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

function computeOffsetMs(ms: number, timeZone: string): number {
  const parts = formatter(timeZone).formatToParts(new Date(ms));
  const get = (t: string): number => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(ms / 1000) * 1000;
}

// Zone offsets only change on quarter-hour boundaries, and intraday series arrive in order, so a
// per-bucket cache turns millions of formatToParts calls into a few per day.
const BUCKET_MS = 15 * 60 * 1000;
const offsetCache = new Map<string, number>();

/** Offset of `timeZone` from UTC at instant `ms`, in milliseconds (positive east of Greenwich). */
export function zoneOffsetMs(ms: number, timeZone: string): number {
  if (timeZone === 'UTC') return 0;
  const key = `${timeZone}|${Math.floor(ms / BUCKET_MS)}`;
  let off = offsetCache.get(key);
  if (off === undefined) {
    if (offsetCache.size > 50_000) offsetCache.clear();
    off = computeOffsetMs(ms, timeZone);
    offsetCache.set(key, off);
  }
  return off;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** YYYY-MM-DD of the UTC calendar date of `ms`. */
export function utcDate(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** The local calendar date (YYYY-MM-DD) of instant `ms` in `timeZone`. */
export function localDateOf(ms: number, timeZone: string): string {
  return utcDate(ms + zoneOffsetMs(ms, timeZone));
}

/** The local calendar date of `ms` at a fixed offset (minutes east of UTC). */
export function localDateAtOffset(ms: number, offsetMinutes: number): string {
  return utcDate(ms + offsetMinutes * 60_000);
}

/**
 * The instant of a naive local wall-clock time in `timeZone`. In a DST gap the later offset
 * wins (02:30 on a spring-forward night becomes 03:30); in a repeated hour the first one wins.
 * Check the parts with {@link isRealDateTime} first: Date.UTC silently rolls 31 February over.
 */
export function zonedToUtc(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, millis = 0, timeZone = 'UTC'): number {
  const naive = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  if (timeZone === 'UTC') return naive;
  // The offsets a day either side bracket any transition near this wall time.
  const before = naive - zoneOffsetMs(naive - 86_400_000, timeZone);
  const after = naive - zoneOffsetMs(naive + 86_400_000, timeZone);
  const ok = [before, after].filter((c) => c + zoneOffsetMs(c, timeZone) === naive);
  if (ok.length > 0) return Math.min(...ok);
  return before;
}

/** Parse a naive "YYYY-MM-DDTHH:MM[:SS[.sss]]" (or with a space) into its parts; null when that time does not exist. */
export function parseNaiveIso(s: string): [number, number, number, number, number, number, number] | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?$/.exec(s.trim());
  if (!m) return null;
  // .9996 must not round up into the next second, which at 23:59:59 is the next day.
  const ms = m[7] ? Math.min(999, Math.round(Number(`0.${m[7]}`) * 1000)) : 0;
  const p: [number, number, number, number, number, number, number] = [
    Number(m[1]),
    Number(m[2]),
    Number(m[3]),
    Number(m[4] ?? 0),
    Number(m[5] ?? 0),
    Number(m[6] ?? 0),
    ms,
  ];
  return isRealDateTime(p[0], p[1], p[2], p[3], p[4], p[5]) ? p : null;
}

/**
 * Parse Fitbit's classic "MM/DD/YY HH:MM:SS" (two-digit year; 2000s assumed, Fitbit was founded
 * in 2007) into parts. A bare "MM/DD/YY" date is accepted too. Null when that time does not exist.
 */
export function parseFitbitUsDate(s: string): [number, number, number, number, number, number] | null {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{2}|\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(s.trim());
  if (!m) return null;
  const y = m[3]!.length === 2 ? 2000 + Number(m[3]) : Number(m[3]);
  const p: [number, number, number, number, number, number] = [y, Number(m[1]), Number(m[2]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  return isRealDateTime(...p) ? p : null;
}

/** Parse an ISO 8601 instant that carries a zone (`Z` or `±HH:MM`); null for naive strings. */
export function parseZonedIso(s: string): { ms: number; offsetMinutes: number | null } | null {
  const t = s.trim();
  const m = /(Z|[+-]\d{2}:?\d{2})$/i.exec(t);
  // Date.parse rolls 31 February over into March; the wall time must exist as written.
  const p = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(t);
  if (!m || !p || !isRealDateTime(Number(p[1]), Number(p[2]), Number(p[3]), Number(p[4]), Number(p[5]), Number(p[6] ?? 0))) return null;
  const ms = Date.parse(t);
  if (!Number.isFinite(ms)) return null;
  const z = m[1]!;
  if (z.toUpperCase() === 'Z') return { ms, offsetMinutes: null };
  const sign = z.startsWith('-') ? -1 : 1;
  const digits = z.slice(1).replace(':', '');
  return { ms, offsetMinutes: sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) };
}

/** ISO 8601 string of an instant as UTC ("2024-01-02T03:04:05.000Z"). */
export function isoUtc(ms: number): string {
  return new Date(ms).toISOString();
}
