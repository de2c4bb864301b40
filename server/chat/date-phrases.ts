/**
 * Date grammar. Each phrase is matched on the normalised question and then blanked out, so the
 * words it used do not turn up again as keywords or in a later, looser pattern.
 */
import { addDays, addMonths, type Civil, daysInMonth, daySpan, isValidCivil, monthSpan, type Span, startOfWeek, toDayNumber, yearSpan } from './civil-date.js';
import { rx } from './phrase-match.js';

const MONTHS: Record<string, number> = {
  january: 1,
  jan: 1,
  february: 2,
  feb: 2,
  march: 3,
  mar: 3,
  april: 4,
  apr: 4,
  may: 5,
  june: 6,
  jun: 6,
  july: 7,
  jul: 7,
  august: 8,
  aug: 8,
  september: 9,
  sept: 9,
  sep: 9,
  october: 10,
  oct: 10,
  november: 11,
  nov: 11,
  december: 12,
  dec: 12,
};

const MONTH = `(?:${Object.keys(MONTHS)
  .sort((a, b) => b.length - a.length)
  .join('|')})\\.?(?![a-z])`;
const DAY = `(?<!\\d)(?:[12]\\d|3[01]|0?[1-9])(?:st|nd|rd|th)?(?![\\d])`;
const YEAR = `(?<![\\d-])(?:19|20)\\d{2}(?![\\d])`;
const ISO_DAY = `(?<![\\d-])\\d{4}-\\d{1,2}-\\d{1,2}(?![\\d-])`;
const ISO_MONTH = `(?<![\\d-])\\d{4}-\\d{1,2}(?![\\d-])`;
const DMY = `(?:the\\s+)?${DAY}(?:\\s+of)?\\s+${MONTH}(?:,?\\s+${YEAR})?`;
const MDY = `${MONTH}\\s+(?:the\\s+)?${DAY}(?:,?\\s+${YEAR})?`;
const MY = `${MONTH},?\\s+(?:of\\s+)?${YEAR}`;
/** Forms that are unmistakably dates wherever they appear. */
const STRONG = `(?:${ISO_DAY}|${ISO_MONTH}|${DMY}|${MDY}|${MY})`;
/** Any single date expression, used inside range phrases where context makes it a date. */
const DATE = `(?:${ISO_DAY}|${ISO_MONTH}|${DMY}|${MDY}|${MY}|${MONTH}|${YEAR})`;

const NUMBER_WORDS: Record<string, number> = {
  a: 1,
  an: 1,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  couple: 2,
  'couple of': 2,
  few: 3,
  several: 5,
};
const NUM = `(?:\\d{1,4}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|couple(?:\\s+of)?|few|several)`;
const UNIT = `(hour|day|week|month|year)s?`;

type Unit = 'hour' | 'day' | 'week' | 'month' | 'year';

function parseNum(s: string): number {
  const t = s.trim().replace(/\s+/g, ' ');
  return /^\d+$/.test(t) ? Number(t) : (NUMBER_WORDS[t] ?? 1);
}

interface PartialDate {
  y?: number;
  m?: number;
  d?: number;
}

/** Reads one date expression matched by DATE; null when it names an impossible day. */
function readDate(text: string): PartialDate | null {
  const iso = /^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?$/.exec(text.trim());
  if (iso) {
    const y = Number(iso[1]);
    const m = Number(iso[2]);
    if (y < 1000 || m < 1 || m > 12) return null;
    if (iso[3] === undefined) return { y, m };
    const d = Number(iso[3]);
    return isValidCivil({ y, m, d }) ? { y, m, d } : null;
  }
  const out: PartialDate = {};
  const monthWord = new RegExp(MONTH).exec(text);
  if (monthWord) out.m = MONTHS[monthWord[0].replace('.', '')];
  const year = new RegExp(YEAR).exec(text);
  if (year) out.y = Number(year[0]);
  const day = new RegExp(DAY).exec(text.replace(new RegExp(YEAR, 'g'), ' '));
  if (day && out.m !== undefined) out.d = parseInt(day[0], 10);
  if (out.m === undefined && out.y === undefined) return null;
  if (out.d !== undefined && out.m !== undefined) {
    // Without a year, 29 February is only impossible if no leap year is near; check with 2000.
    const probe = { y: out.y ?? 2000, m: out.m, d: out.d };
    if (!isValidCivil(probe)) return null;
  }
  return out;
}

/** Month/day order within a year, for deciding which year a year-less date belongs to. */
function monthDayKey(p: PartialDate): number {
  return (p.m ?? 1) * 100 + (p.d ?? 1);
}

/**
 * The most recent year (up to today) in which a year-less date falls; for "in March" asked
 * in January that is last year's March.
 */
function mostRecentYear(p: PartialDate, today: Civil): number {
  const key = monthDayKey({ m: p.m, d: p.d ?? 1 });
  const todayKey = today.m * 100 + today.d;
  let y = key <= todayKey ? today.y : today.y - 1;
  // 29 February with no year: step back to the previous leap year.
  while (p.m === 2 && p.d === 29 && daysInMonth(y, 2) < 29) y -= 1;
  return y;
}

function spanOf(p: PartialDate): Span | null {
  if (p.y === undefined) return null;
  if (p.m === undefined) return yearSpan(p.y);
  if (p.d === undefined) return monthSpan(p.y, p.m);
  const c = { y: p.y, m: p.m, d: p.d };
  return isValidCivil(c) ? daySpan(c) : null;
}

function resolveDate(p: PartialDate, today: Civil): Span | null {
  if (p.y !== undefined || p.m === undefined) return spanOf(p);
  return spanOf({ ...p, y: mostRecentYear(p, today) });
}

/** "between March and May 2025": a year on one side applies to the other. */
function resolvePair(a: PartialDate, b: PartialDate, today: Civil): Span | null {
  const x = { ...a };
  const y = { ...b };
  if (x.y === undefined && y.y === undefined && x.m !== undefined && y.m !== undefined) {
    y.y = mostRecentYear(y, today);
  }
  if (x.y === undefined && y.y !== undefined && x.m !== undefined) {
    x.y = monthDayKey(x) <= monthDayKey(y) || y.m === undefined ? y.y : y.y - 1;
  }
  if (y.y === undefined && x.y !== undefined && y.m !== undefined) {
    y.y = monthDayKey(y) >= monthDayKey(x) || x.m === undefined ? x.y : x.y + 1;
  }
  const sx = spanOf(x);
  const sy = spanOf(y);
  if (!sx || !sy) return null;
  return orderedUnion(sx, sy);
}

export function orderedUnion(a: Span, b: Span): Span {
  const from = toDayNumber(a.from) <= toDayNumber(b.from) ? a.from : b.from;
  const to = toDayNumber(a.to) >= toDayNumber(b.to) ? a.to : b.to;
  return { from, to };
}

function shift(today: Civil, n: number, unit: Unit): Civil {
  switch (unit) {
    case 'hour':
      return addDays(today, -Math.ceil(n / 24));
    case 'day':
      return addDays(today, -n);
    case 'week':
      return addDays(today, -7 * n);
    case 'month':
      return addMonths(today, -n);
    case 'year':
      return addMonths(today, -12 * n);
  }
}

/**
 * "the past N units": a window N units long ending now. At 10:00 on the 26th, "the past 7
 * days" starts at 10:00 on the 19th, so the inclusive dates are 19..26.
 */
function rolling(today: Civil, n: number, unit: Unit): Span {
  const capped = Math.min(n, unit === 'year' ? 150 : unit === 'month' ? 1800 : 55_000);
  return { from: shift(today, capped, unit), to: today };
}

/** The calendar unit holding a date: "two weeks ago" means that week, not one day. */
function unitContaining(c: Civil, unit: Unit): Span {
  switch (unit) {
    case 'hour':
    case 'day':
      return daySpan(c);
    case 'week': {
      const from = startOfWeek(c);
      return { from, to: addDays(from, 6) };
    }
    case 'month':
      return monthSpan(c.y, c.m);
    case 'year':
      return yearSpan(c.y);
  }
}

function relativeSpan(word: string, unit: string, today: Civil): Span | null {
  const last = word === 'last' || word === 'previous';
  switch (unit) {
    case 'week': {
      const monday = startOfWeek(today);
      return last ? { from: addDays(monday, -7), to: addDays(monday, -1) } : { from: monday, to: today };
    }
    case 'month':
      if (last) {
        const p = addMonths({ ...today, d: 1 }, -1);
        return monthSpan(p.y, p.m);
      }
      return { from: { ...today, d: 1 }, to: today };
    case 'year':
      return last ? yearSpan(today.y - 1) : { from: { y: today.y, m: 1, d: 1 }, to: today };
    default:
      return null;
  }
}

/** Relative phrases that may follow "since". */
const RELATIVE = `(?:today|yesterday|(?:this|current|last|previous)\\s+(?:week|month|year))`;

function relativeWord(text: string, today: Civil): Span | null {
  const t = text.trim().replace(/\s+/g, ' ');
  if (t === 'today') return daySpan(today);
  if (t === 'yesterday') return daySpan(addDays(today, -1));
  const [w, u] = t.split(' ');
  return w && u ? relativeSpan(w, u, today) : null;
}

interface DateRule {
  re: RegExp;
  resolve: (m: RegExpMatchArray, today: Civil) => Span | null;
  soft?: boolean;
}

const PREP = `(?:(?:in|over|during|for|within|from|throughout)\\s+)?`;

/** Ordered from most to least specific; a phrase consumed early is invisible to later rules. */
export const DATE_RULES: DateRule[] = [
  {
    re: rx(`(?:between|from)\\s+(${DATE})\\s+(?:and|to|until|till|through|thru|-)\\s+(${DATE})`),
    resolve: (m, today) => {
      const a = readDate(m[1]!);
      const b = readDate(m[2]!);
      return a && b ? resolvePair(a, b, today) : null;
    },
  },
  {
    // "2024 and 2025", "March 2025 vs March 2026": both, so the answer can compare them.
    re: rx(`${PREP}(${YEAR}|${STRONG})\\s+(?:and|or|vs\\.?|versus)\\s+(?:in\\s+)?(${YEAR}|${STRONG})`),
    resolve: (m, today) => {
      const a = readDate(m[1]!);
      const b = readDate(m[2]!);
      const sa = a && resolveDate(a, today);
      const sb = b && resolveDate(b, today);
      return sa && sb ? orderedUnion(sa, sb) : null;
    },
  },
  {
    re: rx(`(?:since|after|from)\\s+(${RELATIVE}|${DATE})`),
    resolve: (m, today) => {
      const rel = relativeWord(m[1]!, today);
      const d =
        rel ??
        (() => {
          const p = readDate(m[1]!);
          return p ? resolveDate(p, today) : null;
        })();
      if (!d) return null;
      return { from: d.from, to: toDayNumber(d.from) > toDayNumber(today) ? d.to : today };
    },
  },
  { re: rx(`${PREP}(?:the\\s+)?(?:past|last|previous|recent)\\s+(${NUM})\\s+${UNIT}`), resolve: (m, today) => rolling(today, parseNum(m[1]!), m[2] as Unit) },
  { re: rx(`${PREP}(?:the\\s+(?:past|last)|(?:this\\s+)?past)\\s+(hour|day|week|month|year)`), resolve: (m, today) => rolling(today, 1, m[1] as Unit) },
  {
    re: rx(`(${NUM})\\s+${UNIT}\\s+ago`),
    resolve: (m, today) => {
      const unit = m[2] as Unit;
      return unitContaining(shift(today, parseNum(m[1]!), unit), unit);
    },
  },
  { re: rx(`(?:the\\s+)?day\\s+before\\s+yesterday`), resolve: (_m, today) => daySpan(addDays(today, -2)) },
  { re: rx(`(?:today|tonight|this\\s+(?:morning|afternoon|evening))`), resolve: (_m, today) => daySpan(today) },
  { re: rx(`(?:yesterday|last\\s+night)`), resolve: (_m, today) => daySpan(addDays(today, -1)) },
  { re: rx(`${PREP}(?:the\\s+)?(this|current|last|previous)\\s+(week|month|year)`), resolve: (m, today) => relativeSpan(m[1]!, m[2]!, today) },
  {
    re: rx(`(?:(?:on|in|during|for|of|throughout|around)\\s+)?(${STRONG})`),
    resolve: (m, today) => {
      const p = readDate(m[1]!);
      return p ? resolveDate(p, today) : null;
    },
  },
  {
    // A bare month or year only counts after a preposition: "may" is also a verb, and a bare
    // number like 2000 may be a step count.
    re: rx(`(in|during|for|of|throughout|last|this)\\s+(?:the\\s+year\\s+)?(${MONTH}|${YEAR})`),
    resolve: (m, today) => {
      const p = readDate(m[2]!);
      if (!p) return null;
      if (p.y === undefined && p.m !== undefined) {
        if (m[1] === 'this') return monthSpan(today.y, p.m);
        if (m[1] === 'last') return monthSpan(p.m < today.m ? today.y : today.y - 1, p.m);
      }
      if (m[1] === 'last' || m[1] === 'this') return null;
      return resolveDate(p, today);
    },
  },
  { re: rx(`(?:recently|lately|of\\s+late|these\\s+days)`), resolve: (_m, today) => rolling(today, 30, 'day'), soft: true },
];
