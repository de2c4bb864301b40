/**
 * Civil dates. Arithmetic runs on calendar days (no clock times), so DST shifts in the user's
 * zone can never move a boundary by a day.
 */

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

/** Local wall-clock fields of an instant in `timeZone` (an unknown zone reads as UTC, as {@link todayIn}). */
function wallClock(at: number, timeZone: string | undefined): { y: number; m: number; d: number; h: number; min: number; s: number } {
  const fmt = (zone: string) =>
    new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    }).formatToParts(at);
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = fmt(timeZone ?? 'UTC');
  } catch {
    parts = fmt('UTC');
  }
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return { y: get('year'), m: get('month'), d: get('day'), h: get('hour'), min: get('minute'), s: get('second') };
}

/** How far `timeZone`'s wall clock is ahead of UTC at an instant, in ms. */
function offsetAt(at: number, timeZone: string | undefined): number {
  const w = wallClock(at, timeZone);
  return Date.UTC(w.y, w.m - 1, w.d, w.h, w.min, w.s) - (at - (((at % 1000) + 1000) % 1000));
}

/**
 * The instant a civil day begins in `timeZone`: its local midnight, found from the zone's offset
 * at a first guess and again at the result, so a DST change between the two is followed. Where a
 * zone skips midnight itself, the day begins an hour off; only a few zones ever did.
 */
export function startOfDayIn(c: Civil, timeZone: string | undefined): Date {
  const midnightUtc = toDayNumber(c) * DAY_MS;
  const first = midnightUtc - offsetAt(midnightUtc, timeZone);
  const second = midnightUtc - offsetAt(first, timeZone);
  return new Date(second);
}

/** An instant as the local `YYYY-MM-DDTHH:mm` of `timeZone`. */
export function localMinute(at: Date, timeZone: string | undefined): string {
  const w = wallClock(at.getTime(), timeZone);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${isoDate({ y: w.y, m: w.m, d: w.d })}T${pad(w.h)}:${pad(w.min)}`;
}
