/**
 * Turns a chat question into retrieval hints: a date range in the user's own calendar, health
 * metrics (with their type codes), record kinds and the leftover keywords for the blind index.
 * Pure: `now` and the zone are inputs, so every phrase can be tested at any date.
 *
 * The vocabularies live next door: date-phrases.ts (on civil-date.ts), metric-words.ts and
 * kind-words.ts; phrase-match.ts blanks out what each one matched.
 */
import { isoDate, type Span, todayIn } from './civil-date.js';
import { DATE_RULES, orderedUnion } from './date-phrases.js';
import type { Metric } from './health-metrics.js';
import { KIND_RULES, type RecordKind } from './kind-words.js';
import { SYNONYM_RULES } from './metric-words.js';
import { consume, normalise, rx } from './phrase-match.js';

export { METRICS, type Metric } from './health-metrics.js';
export type { RecordKind } from './kind-words.js';

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
  /**
   * The words that named a metric, as written ("hba1c", "blood pressure"): a note or a lab report
   * mentions its values under them, not under the metric's code, so they are searched too.
   */
  metricWords: string[];
  /** The zone the dates were read in (the browser's), for their bounds as instants. */
  timeZone?: string;
  range?: DateRange;
  metrics: Metric[];
  kinds: RecordKind[];
  wantsLatest: boolean;
  wantsTrend: boolean;
}

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
  const metricWords: string[] = [];
  for (const { re, metric } of SYNONYM_RULES) {
    rest = consume(rest, re, (m) => {
      if (!metrics.includes(metric)) metrics.push(metric);
      const words = m[0].trim();
      if (words && !metricWords.includes(words)) metricWords.push(words);
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
  const range: DateRange | undefined = chosen ? { from: isoDate(chosen.from), to: isoDate(chosen.to), ...(hard ? {} : { soft: true }) } : undefined;
  const parsed: ParsedQuestion = { keywords, metricWords, metrics, kinds, wantsLatest, wantsTrend };
  if (range) parsed.range = range;
  if (timeZone) parsed.timeZone = timeZone;
  return parsed;
}
