/**
 * Civil dates. Arithmetic runs on calendar days (no clock times), so DST shifts in the user's
 * zone can never move a boundary by a day.
 */

import { isValidTimeZone, zonedToUtc, zoneOffsetMs } from '../../integrations/fitbit/time.js';

export interface Civil {
  y: number;
  m: number;
  d: number;
}

const DAY_MS = 86_400_000;

export function toDayNumber(c: Civil): number {
  return Date.UTC(c.y, c.m - 1, c.d) / DAY_MS;
}

function fromDayNumber(n: number): Civil {
  const dt = new Date(n * DAY_MS);
  return { y: dt.getUTCFullYear(), m: dt.getUTCMonth() + 1, d: dt.getUTCDate() };
}

export function addDays(c: Civil, n: number): Civil {
  return fromDayNumber(toDayNumber(c) + n);
}

export function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** Clamps the day so that 31 March minus one month is 28/29 February, not 3 March. */
export function addMonths(c: Civil, n: number): Civil {
  const total = c.y * 12 + (c.m - 1) + n;
  const y = Math.floor(total / 12);
  const m = (total % 12) + 1;
  return { y, m, d: Math.min(c.d, daysInMonth(y, m)) };
}

export function isoDate(c: Civil): string {
  const pad = (n: number, w: number) => String(n).padStart(w, '0');
  return `${pad(c.y, 4)}-${pad(c.m, 2)}-${pad(c.d, 2)}`;
}

export function isValidCivil(c: Civil): boolean {
  return c.m >= 1 && c.m <= 12 && c.d >= 1 && c.d <= daysInMonth(c.y, c.m);
}

/** ISO weeks start on Monday. */
export function startOfWeek(c: Civil): Civil {
  const dow = (new Date(toDayNumber(c) * DAY_MS).getUTCDay() + 6) % 7;
  return addDays(c, -dow);
}

export function todayIn(now: Date, timeZone: string | undefined): Civil {
  if (Number.isNaN(now.getTime())) throw new TypeError('parseQuestion: invalid `now`');
  let zone = timeZone ?? 'UTC';
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = formatParts(now, zone);
  } catch {
    // The zone comes from the browser; an unknown one should degrade to UTC, not fail chat.
    zone = 'UTC';
    parts = formatParts(now, zone);
  }
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return { y: get('year'), m: get('month'), d: get('day') };
}

function formatParts(now: Date, timeZone: string): Intl.DateTimeFormatPart[] {
  return new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric' }).formatToParts(now);
}

export interface Span {
  from: Civil;
  to: Civil;
}

export function monthSpan(y: number, m: number): Span {
  return { from: { y, m, d: 1 }, to: { y, m, d: daysInMonth(y, m) } };
}

export function yearSpan(y: number): Span {
  return { from: { y, m: 1, d: 1 }, to: { y, m: 12, d: 31 } };
}

export function daySpan(c: Civil): Span {
  return { from: c, to: c };
}

/** The civil date of an ISO `YYYY-MM-DD`. */
export function civilOf(iso: string): Civil {
  const [y, m, d] = iso.split('-').map(Number) as [number, number, number];
  return { y, m, d };
}

/** The zone the person's browser sent, or UTC for none or one this runtime does not know (as {@link todayIn}). */
const zoneOr = (timeZone: string | undefined): string => (timeZone && isValidTimeZone(timeZone) ? timeZone : 'UTC');

/** The instant a civil day begins in `timeZone`: its local midnight (the first instant after it where DST skips it). */
export function startOfDayIn(c: Civil, timeZone: string | undefined): Date {
  return new Date(zonedToUtc(c.y, c.m, c.d, 0, 0, 0, 0, zoneOr(timeZone)));
}

/** An instant as the local `YYYY-MM-DDTHH:mm` of `timeZone`. */
export function localMinute(at: Date, timeZone: string | undefined): string {
  const ms = at.getTime();
  return new Date(ms + zoneOffsetMs(ms, zoneOr(timeZone))).toISOString().slice(0, 16);
}
