/**
 * Apple Health writes every date as "2026-06-01 00:30:05 +0100": local wall time plus the UTC
 * offset in force then. Parsing it by hand is several times faster than `Date.parse` (which
 * does not accept this form anyway) and a large export has tens of millions of them.
 */

import { isRealDateTime } from '../calendar.js';

const C0 = 48; // '0'

function d2(s: string, i: number): number {
  const a = s.charCodeAt(i) - C0;
  const b = s.charCodeAt(i + 1) - C0;
  // Non-digits make a or b out of 0..9; the NaN-free check keeps the hot path branch-light.
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Epoch milliseconds of an Apple date ("YYYY-MM-DD hh:mm:ss ±hhmm"), or NaN when it is not
 * one. Also accepts the offset written "±hh:mm" and the ISO form "YYYY-MM-DDThh:mm:ss±hh:mm" /
 * "Z", which tools that rewrite an export use. A time without an offset is refused: it names no
 * instant, and the upload says nothing of the time zone it was written in.
 */
export function parseAppleDate(s: string): number {
  // "+01:00" is "+0100" with a colon: read it as that form.
  if (s.length === 26 && s.charCodeAt(10) === 32 && s.charCodeAt(23) === 58) return parseAppleDate(s.slice(0, 23) + s.slice(24));
  if (
    s.length === 25 &&
    s.charCodeAt(4) === 45 &&
    s.charCodeAt(7) === 45 &&
    s.charCodeAt(10) === 32 &&
    s.charCodeAt(13) === 58 &&
    s.charCodeAt(16) === 58 &&
    s.charCodeAt(19) === 32
  ) {
    const sign = s.charCodeAt(20);
    const yh = d2(s, 0);
    const yl = d2(s, 2);
    const mo = d2(s, 5);
    const d = d2(s, 8);
    const h = d2(s, 11);
    const mi = d2(s, 14);
    const se = d2(s, 17);
    const oh = d2(s, 21);
    const om = d2(s, 23);
    if (
      (sign !== 43 && sign !== 45) ||
      yh < 0 ||
      yl < 0 ||
      mo < 1 ||
      mo > 12 ||
      d < 1 ||
      d > DAYS_IN_MONTH[mo - 1]! ||
      h < 0 ||
      h > 23 ||
      mi < 0 ||
      mi > 59 ||
      se < 0 ||
      se > 60 ||
      oh < 0 ||
      oh > 18 ||
      om < 0 ||
      om > 59
    ) {
      return NaN;
    }
    const y = yh * 100 + yl;
    if (mo === 2 && d === 29 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0))) return NaN;
    const off = (oh * 60 + om) * (sign === 45 ? -1 : 1);
    return ((daysFromCivil(y, mo, d) * 24 + h) * 60 + mi - off) * 60000 + se * 1000;
  }
  const iso = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/.exec(s);
  // Date.parse would roll 31 February over into March.
  if (iso && isRealDateTime(Number(iso[1]), Number(iso[2]), Number(iso[3]), Number(iso[4]), Number(iso[5]), Number(iso[6] ?? 0))) return Date.parse(s);
  return NaN;
}

/** "2026-06-01 00:30:05 +0100" -> "2026-06-01T00:30:05+01:00" (ISO 8601, offset kept). */
export function appleDateToIso(s: string): string | null {
  if (s.length === 25 && !Number.isNaN(parseAppleDate(s))) {
    return `${s.slice(0, 10)}T${s.slice(11, 19)}${s.slice(20, 23)}:${s.slice(23, 25)}`;
  }
  if (s.length === 26 && s.charCodeAt(10) === 32 && !Number.isNaN(parseAppleDate(s))) return `${s.slice(0, 10)}T${s.slice(11, 19)}${s.slice(20)}`;
  if (!Number.isNaN(parseAppleDate(s))) return s;
  return null;
}

/** Local calendar date as written ("2026-06-01" for "2026-06-01 00:30:05 +0100"). */
export function appleLocalDate(s: string): string {
  return s.slice(0, 10);
}
