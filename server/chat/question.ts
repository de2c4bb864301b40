/**
 * Turns a chat question into retrieval hints: a date range in the user's own calendar, health
 * metrics (with their type codes), record kinds and the leftover keywords for the blind index.
 * Pure: `now` and the zone are inputs, so every phrase can be tested at any date.
 */
import { METRICS, type Metric } from './metrics.js';

export { METRICS, type Metric } from './metrics.js';

export type RecordKind =
  | 'medication'
  | 'allergy'
  | 'condition'
  | 'immunization'
  | 'laboratory'
  | 'vital-signs'
  | 'procedure'
  | 'encounter'
  | 'document'
  | 'note';

export interface DateRange {
  /** Inclusive ISO date (YYYY-MM-DD) in the user's zone. */
  from: string;
  /** Inclusive ISO date (YYYY-MM-DD) in the user's zone. */
  to: string;
  /**
   * Set for vague phrases ("recently"): rank by it, but do not exclude items outside it, or a
   * reading from 40 days ago would vanish from "what was my weight recently?".
   */
  soft?: boolean;
}

export interface ParsedQuestion {
  keywords: string[];
  range?: DateRange;
  metrics: Metric[];
  kinds: RecordKind[];
  wantsLatest: boolean;
  wantsTrend: boolean;
}

// ---------------------------------------------------------------------------------------------
// Civil dates. Arithmetic runs on calendar days (no clock times), so DST shifts in the user's
// zone can never move a boundary by a day.

interface Civil {
  y: number;
  m: number;
  d: number;
}

const DAY_MS = 86_400_000;

function toDayNumber(c: Civil): number {
  return Date.UTC(c.y, c.m - 1, c.d) / DAY_MS;
}

function fromDayNumber(n: number): Civil {
  const dt = new Date(n * DAY_MS);
  return { y: dt.getUTCFullYear(), m: dt.getUTCMonth() + 1, d: dt.getUTCDate() };
}

function addDays(c: Civil, n: number): Civil {
  return fromDayNumber(toDayNumber(c) + n);
}

function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** Clamps the day so that 31 March minus one month is 28/29 February, not 3 March. */
function addMonths(c: Civil, n: number): Civil {
  const total = c.y * 12 + (c.m - 1) + n;
  const y = Math.floor(total / 12);
  const m = (total % 12) + 1;
  return { y, m, d: Math.min(c.d, daysInMonth(y, m)) };
}

function isoDate(c: Civil): string {
  const pad = (n: number, w: number) => String(n).padStart(w, '0');
  return `${pad(c.y, 4)}-${pad(c.m, 2)}-${pad(c.d, 2)}`;
}

function isValidCivil(c: Civil): boolean {
  return c.m >= 1 && c.m <= 12 && c.d >= 1 && c.d <= daysInMonth(c.y, c.m);
}

/** ISO weeks start on Monday. */
function startOfWeek(c: Civil): Civil {
  const dow = (new Date(toDayNumber(c) * DAY_MS).getUTCDay() + 6) % 7;
  return addDays(c, -dow);
}

function todayIn(now: Date, timeZone: string | undefined): Civil {
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
  return new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
  }).formatToParts(now);
}

interface Span {
  from: Civil;
  to: Civil;
}

function monthSpan(y: number, m: number): Span {
  return { from: { y, m, d: 1 }, to: { y, m, d: daysInMonth(y, m) } };
}

function yearSpan(y: number): Span {
  return { from: { y, m: 1, d: 1 }, to: { y, m: 12, d: 31 } };
}

function daySpan(c: Civil): Span {
  return { from: c, to: c };
}

// ---------------------------------------------------------------------------------------------
// Date grammar. Each phrase is matched on the normalised question and then blanked out, so the
// words it used do not turn up again as keywords or in a later, looser pattern.

const MONTHS: Record<string, number> = {
  january: 1, jan: 1, february: 2, feb: 2, march: 3, mar: 3, april: 4, apr: 4, may: 5,
  june: 6, jun: 6, july: 7, jul: 7, august: 8, aug: 8, september: 9, sept: 9, sep: 9,
  october: 10, oct: 10, november: 11, nov: 11, december: 12, dec: 12,
};

const MONTH = `(?:${Object.keys(MONTHS).sort((a, b) => b.length - a.length).join('|')})\\.?(?![a-z])`;
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
  a: 1, an: 1, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8,
  nine: 9, ten: 10, eleven: 11, twelve: 12, couple: 2, 'couple of': 2, few: 3, several: 5,
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

function orderedUnion(a: Span, b: Span): Span {
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
const rx = (src: string) => new RegExp(`(?<![\\p{L}\\p{N}])${src}(?![\\p{L}\\p{N}])`, 'gu');

/** Ordered from most to least specific; a phrase consumed early is invisible to later rules. */
const DATE_RULES: DateRule[] = [
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
      const d = rel ?? (() => {
        const p = readDate(m[1]!);
        return p ? resolveDate(p, today) : null;
      })();
      if (!d) return null;
      return { from: d.from, to: toDayNumber(d.from) > toDayNumber(today) ? d.to : today };
    },
  },
  {
    re: rx(`${PREP}(?:the\\s+)?(?:past|last|previous|recent)\\s+(${NUM})\\s+${UNIT}`),
    resolve: (m, today) => rolling(today, parseNum(m[1]!), m[2] as Unit),
  },
  {
    re: rx(`${PREP}(?:the\\s+(?:past|last)|(?:this\\s+)?past)\\s+(hour|day|week|month|year)`),
    resolve: (m, today) => rolling(today, 1, m[1] as Unit),
  },
  {
    re: rx(`(${NUM})\\s+${UNIT}\\s+ago`),
    resolve: (m, today) => {
      const unit = m[2] as Unit;
      return unitContaining(shift(today, parseNum(m[1]!), unit), unit);
    },
  },
  {
    re: rx(`(?:the\\s+)?day\\s+before\\s+yesterday`),
    resolve: (_m, today) => daySpan(addDays(today, -2)),
  },
  {
    re: rx(`(?:today|tonight|this\\s+(?:morning|afternoon|evening))`),
    resolve: (_m, today) => daySpan(today),
  },
  {
    re: rx(`(?:yesterday|last\\s+night)`),
    resolve: (_m, today) => daySpan(addDays(today, -1)),
  },
  {
    re: rx(`${PREP}(?:the\\s+)?(this|current|last|previous)\\s+(week|month|year)`),
    resolve: (m, today) => relativeSpan(m[1]!, m[2]!, today),
  },
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
  {
    re: rx(`(?:recently|lately|of\\s+late|these\\s+days)`),
    resolve: (_m, today) => rolling(today, 30, 'day'),
    soft: true,
  },
];

// ---------------------------------------------------------------------------------------------
// Kinds, signals and stop words.

const KIND_PHRASES: Array<[string, RecordKind]> = [
  ['medications', 'medication'], ['medication', 'medication'], ['meds', 'medication'],
  ['medicines', 'medication'], ['medicine', 'medication'], ['prescriptions', 'medication'],
  ['prescription', 'medication'], ['prescribed', 'medication'], ['drugs', 'medication'],
  ['allergies', 'allergy'], ['allergy', 'allergy'], ['allergic', 'allergy'],
  ['conditions', 'condition'], ['condition', 'condition'], ['diagnoses', 'condition'], ['diagnosis', 'condition'],
  ['diagnosed', 'condition'], ['problems', 'condition'], ['health problems', 'condition'],
  ['immunizations', 'immunization'], ['immunization', 'immunization'],
  ['immunisations', 'immunization'], ['immunisation', 'immunization'],
  ['vaccines', 'immunization'], ['vaccine', 'immunization'], ['vaccinations', 'immunization'],
  ['vaccination', 'immunization'], ['vaccinated', 'immunization'], ['shots', 'immunization'],
  ['jabs', 'immunization'], ['shot', 'immunization'], ['jab', 'immunization'], ['booster', 'immunization'], ['boosters', 'immunization'],
  ['labs', 'laboratory'], ['lab', 'laboratory'], ['lab results', 'laboratory'],
  ['lab result', 'laboratory'], ['lab tests', 'laboratory'], ['lab test', 'laboratory'],
  ['test results', 'laboratory'], ['tests', 'laboratory'], ['test', 'laboratory'], ['blood work', 'laboratory'],
  ['bloodwork', 'laboratory'], ['blood tests', 'laboratory'], ['blood test', 'laboratory'],
  ['vitals', 'vital-signs'], ['vital signs', 'vital-signs'],
  ['procedures', 'procedure'], ['procedure', 'procedure'], ['surgery', 'procedure'],
  ['surgeries', 'procedure'], ['operations', 'procedure'], ['operation', 'procedure'],
  ['visits', 'encounter'], ['visit', 'encounter'], ['appointments', 'encounter'],
  ['appointment', 'encounter'], ['encounters', 'encounter'], ['encounter', 'encounter'],
  ['documents', 'document'], ['document', 'document'], ['files', 'document'],
  ['notes', 'note'], ['note', 'note'],
];

const LATEST_RE = rx(`(?:most\\s+recent|latest|last|newest|current|currently|recent|right\\s+now|now|up\\s+to\\s+date)`);
const TREND_RE = rx(
  `(?:over\\s+time|(?:going|gone|went|go)\\s+(?:up|down)|trends?|trending|chang(?:e|es|ed|ing)|` +
    `improv(?:e|es|ed|ing|ement)|increas(?:e|es|ed|ing)|decreas(?:e|es|ed|ing)|ris(?:e|es|en|ing)|` +
    `fall(?:s|en|ing)?|dropp(?:ed|ing)|drops?|declin(?:e|es|ed|ing)|higher|lower|better|worse|` +
    `progress(?:ion|ed|ing)?|compared?|comparing|comparison|history|patterns?|fluctuat\\p{L}*|evol\\p{L}*)`,
);

const STOP_WORDS = new Set(
  (
    'a about above after again against all am an and any anything are aren as at be because been ' +
    'before being below between both but by can could did didn do does doesn doing don down during each ' +
    'ever every few for from further get got had has have having he her here hers herself him himself his ' +
    'how i if in into is isn it its itself just let me might more most much must my myself no nor not of ' +
    'off on once only or other our ours out over own same she should so some such than that the their ' +
    'theirs them then there these they this those through to too under until up very was wasn we were ' +
    'what when where which while who whom whose why will with would you your yours yourself ' +
    "i'm i've i'd im ive what's whats when's how's there's it's " +
    'also already always around ago many ok okay please show tell told say said give list find see ' +
    'look looking know need want wondering check remind reminder summary summarize summarise ' +
    'level levels value values reading readings result results record records data number numbers ' +
    'entry entries info information details time times date dates day days week weeks month months ' +
    'year years like may since till until thru via per vs versus'
  ).split(/\s+/),
);

// ---------------------------------------------------------------------------------------------

function normalise(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc`]/g, "'")
    .replace(/[\u2010-\u2015\u2212]/g, '-')
    .replace(/\s+/g, ' ');
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '\\s+');
}

/** Blanks with a separator, so two words either side of a removed phrase never form a new one. */
const GAP = ' | ';

function consume(text: string, re: RegExp, onMatch: (m: RegExpMatchArray) => boolean): string {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (!onMatch(m)) continue;
    const at = m.index ?? 0;
    out += text.slice(last, at) + GAP;
    last = at + m[0].length;
  }
  return out + text.slice(last);
}

const SYNONYM_RULES = METRICS.flatMap((metric) => metric.synonyms.map((s) => ({ s, metric })))
  .sort((a, b) => b.s.length - a.s.length)
  .map(({ s, metric }) => ({ re: rx(escapeRe(s)), metric }));

const KIND_RULES = [...KIND_PHRASES]
  .sort((a, b) => b[0].length - a[0].length)
  .map(([s, kind]) => ({ re: rx(escapeRe(s)), kind }));

/**
 * Parses a question. `timeZone` is an IANA zone (the browser's); dates are in that zone so
 * "today" just after midnight in Auckland is not yesterday.
 */
export function parseQuestion(text: string, now: Date, timeZone?: string): ParsedQuestion {
  const today = todayIn(now, timeZone);
  let rest = ` ${normalise(text)} `;

  let hard: Span | undefined;
  let soft: Span | undefined;
  for (const rule of DATE_RULES) {
    rest = consume(rest, rule.re, (m) => {
      const span = rule.resolve(m, today);
      if (!span) return false;
      // Several phrases ("2024 and 2025") widen the range rather than the last one winning.
      if (rule.soft) soft = soft ? orderedUnion(soft, span) : span;
      else hard = hard ? orderedUnion(hard, span) : span;
      return true;
    });
  }

  const metrics: Metric[] = [];
  for (const { re, metric } of SYNONYM_RULES) {
    rest = consume(rest, re, () => {
      if (!metrics.includes(metric)) metrics.push(metric);
      return true;
    });
  }

  const kinds: RecordKind[] = [];
  for (const { re, kind } of KIND_RULES) {
    rest = consume(rest, re, () => {
      if (!kinds.includes(kind)) kinds.push(kind);
      return true;
    });
  }

  let wantsTrend = false;
  rest = consume(rest, TREND_RE, () => (wantsTrend = true));
  let wantsLatest = false;
  rest = consume(rest, LATEST_RE, () => (wantsLatest = true));

  const keywords: string[] = [];
  for (const raw of rest.split(/[^\p{L}\p{N}']+/u)) {
    const word = raw.replace(/'s$/, '').replace(/^'+|'+$/g, '');
    if (!word || STOP_WORDS.has(word)) continue;
    if (word.length < 2 && !/\d/.test(word)) continue;
    if (!keywords.includes(word)) keywords.push(word);
  }

  const chosen = hard ?? soft;
  const range: DateRange | undefined = chosen
    ? { from: isoDate(chosen.from), to: isoDate(chosen.to), ...(hard ? {} : { soft: true }) }
    : undefined;
  const parsed: ParsedQuestion = { keywords, metrics, kinds, wantsLatest, wantsTrend };
  if (range) parsed.range = range;
  return parsed;
}
