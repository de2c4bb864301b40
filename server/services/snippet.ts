import { cjkMatcher, hasCjk, tokenize, wordMatcher } from '../../crypto/index.js';

/** How much of a long text is read word by word: enough for any snippet, bounded for huge documents. */
const SCAN_CHARS = 50_000;
/**
 * Past {@link SCAN_CHARS}, the places whose words are read word by word: each is a candidate the
 * pre-filter found, so a word that starts like a query token but is none (the query "walk" and
 * "wall") costs one small window, and a text full of them gives up after this many.
 */
const DEEP_TRIES = 32;
/** Text read around a candidate: wide enough for the window with the most matched words. */
const DEEP_BEFORE = 300;
/** One character of a word, as the blind index's tokenizer reads words: `[\p{L}\p{N}\p{M}]+`. */
const WORD_CHAR = /^[\p{L}\p{N}\p{M}]$/u;
const ASCII_WORD = Uint8Array.from({ length: 128 }, (_, c) => (WORD_CHAR.test(String.fromCharCode(c)) ? 1 : 0));
const wordChars = new Map<number, boolean>();

function isWordChar(cp: number): boolean {
  if (cp < 128) return ASCII_WORD[cp] === 1;
  let yes = wordChars.get(cp);
  if (yes === undefined) {
    yes = WORD_CHAR.test(String.fromCodePoint(cp));
    if (wordChars.size < 8192) wordChars.set(cp, yes);
  }
  return yes;
}

/**
 * Where the words of `s` that `matches` are, at most `max` of them. Read code point by code point
 * rather than with `matchAll`: a page of search results goes through thousands of words, and a
 * match array for each was a fifth of what a search allocated.
 */
function matchedWords(s: string, m: Matchers, max: number): Array<{ start: number; end: number }> {
  const hits: Array<{ start: number; end: number }> = [];
  const n = s.length;
  for (let i = 0; i < n && hits.length < max;) {
    let cp = s.codePointAt(i)!;
    if (!isWordChar(cp)) {
      i += cp > 0xffff ? 2 : 1;
      continue;
    }
    const start = i;
    let wide = false;
    do {
      i += cp > 0xffff ? 2 : 1;
      wide ||= cp >= 0x1100;
    } while (i < n && isWordChar((cp = s.codePointAt(i)!)));
    const word = s.slice(start, i);
    // A run of Han, kana or Hangul is many words: marked where it holds the query's tokens.
    const parts = wide ? m.cjk(word) : [];
    if (parts.length) for (const [a, b] of parts) hits.push({ start: start + a, end: start + b });
    else if (m.word(word)) hits.push({ start, end: i });
  }
  return hits;
}

interface Matchers {
  word: (word: string) => boolean;
  cjk: (word: string) => Array<[number, number]>;
}

/**
 * A short passage of an item with the words that matched the query wrapped in `**`, computed
 * from the decrypted item for one response and never stored. Words match as the blind index
 * matches them (crypto `tokenize`: case, accents and stems folded), so "walking" marks "walked".
 * Asterisks of the text itself are dropped so that only the marks are `**`.
 */
export function snippet(title: string, text: string, query: string, maxChars = 200): string {
  return snippets(query, maxChars)(title, text);
}

/**
 * {@link snippet} for the items of one response: the query is tokenized once, and the page's
 * items share one {@link wordMatcher} (and what it remembers), which a caller keeps for one
 * response only.
 */
export function snippets(query: string, maxChars = 200): (title: string, text: string) => string {
  const matches: Matchers = { word: wordMatcher(query), cjk: cjkMatcher(query) };
  // Built only for a text longer than the scanned start: a search page rarely has one.
  let candidates: RegExp | null | undefined;
  return (title, text) => {
    const fromText = passage(text, matches, maxChars);
    if (fromText?.marked) return fromText.snippet;
    const fromTitle = passage(title, matches, maxChars);
    if (fromTitle?.marked) return fromTitle.snippet;
    if (text.length <= SCAN_CHARS) return fromText?.snippet ?? fromTitle?.snippet ?? '';
    if (candidates === undefined) candidates = prefilter(query);
    const deep = candidates ? deepPassage(text, candidates, matches, maxChars) : null;
    return deep ?? fromText?.snippet ?? fromTitle?.snippet ?? '';
  };
}

/**
 * Where a word could match the query, found by one regular expression over the raw text: a word
 * the matcher accepts folds to a query token, and folding (lower case, a stem cut at the end)
 * keeps every letter but the token's last at its start, so the word begins with that "head"
 * in some case. A word whose first letters carry accents the query lacks ("École" for
 * "ecole") is not found past the scanned start; CJK tokens are looked for as they are.
 */
function prefilter(query: string): RegExp | null {
  const forms = new Set<string>();
  for (const t of tokenize(query, 'query')) forms.add(hasCjk(t) ? t : t.slice(0, -1));
  if (forms.size === 0 || forms.has('')) return null;
  const alternatives = [...forms].map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  return new RegExp(`(?:${alternatives})`, 'giu');
}

/**
 * The first marked passage past {@link SCAN_CHARS}: the pre-filter finds a candidate, and only
 * the text around it is read word by word. A text with no candidate costs one regular
 * expression scan; one with many stops after {@link DEEP_TRIES} windows.
 */
function deepPassage(text: string, candidates: RegExp, matches: Matchers, maxChars: number): string | null {
  candidates.lastIndex = Math.max(0, SCAN_CHARS - DEEP_BEFORE);
  for (let tries = 0; tries < DEEP_TRIES; tries++) {
    const m = candidates.exec(text);
    if (!m) return null;
    // Whole words only: the window opens and closes on whitespace, so no cut word matches.
    const before = Math.max(0, m.index - DEEP_BEFORE);
    const opening = text.slice(before, m.index).search(/\s/);
    const from = opening < 0 ? m.index : before + opening + 1;
    const closing = text.slice(m.index + maxChars, m.index + maxChars + DEEP_BEFORE).search(/\s/);
    const to = closing < 0 ? Math.min(text.length, m.index + maxChars + DEEP_BEFORE) : m.index + maxChars + closing;
    const found = passage(text.slice(from, to), matches, maxChars);
    if (found?.marked) return found.snippet.startsWith('…') ? found.snippet : `…${found.snippet}`;
    candidates.lastIndex = m.index + Math.max(1, m[0].length);
  }
  return null;
}

function passage(source: string, matches: Matchers, maxChars: number): { snippet: string; marked: boolean } | null {
  // Whitespace runs become one space; a lone space is left as it is, so text with nothing
  // else to fold is not copied.
  const clean = source
    .slice(0, SCAN_CHARS)
    .replace(/\*+/g, '')
    .replace(/\s{2,}|[^\S ]/g, ' ')
    .trim();
  if (!clean) return null;
  const hits = matchedWords(clean, matches, 500);
  if (hits.length === 0) return { snippet: cut(clean, 0, maxChars), marked: false };
  // The window holding the most matched words, starting a little before its first one.
  let best = 0;
  let bestCount = 0;
  for (let i = 0, j = 0; i < hits.length; i++) {
    while (j < hits.length && hits[j]!.end - hits[i]!.start <= maxChars - 30) j++;
    if (j - i > bestCount) [best, bestCount] = [i, j - i];
  }
  const from = Math.max(0, wordStart(clean, hits[best]!.start - 30));
  const to = Math.min(clean.length, from + maxChars);
  let out = from > 0 ? '…' : '';
  let at = from;
  for (const h of hits) {
    if (h.start < from || h.end > to) continue;
    out += `${clean.slice(at, h.start)}**${clean.slice(h.start, h.end)}**`;
    at = h.end;
  }
  out += clean.slice(at, wordEnd(clean, to));
  if (wordEnd(clean, to) < clean.length) out += '…';
  return { snippet: out, marked: true };
}

function cut(s: string, from: number, maxChars: number): string {
  if (s.length <= maxChars) return s;
  return `${s.slice(from, wordEnd(s, from + maxChars))}…`;
}

/**
 * How far a cut looks back for a space: text in Han, kana or Hangul has none between words (any
 * character boundary will do there), and a snippet must still hold the words it was cut around.
 */
const WORD_SLACK = 24;

/** The start of the word at `i` (or `i` on a space), so a snippet does not open mid-word. */
function wordStart(s: string, i: number): number {
  if (i <= 0) return 0;
  const space = s.lastIndexOf(' ', i);
  if (space < 0) return i <= WORD_SLACK ? 0 : boundary(s, i);
  return i - space > WORD_SLACK ? boundary(s, i) : space + 1;
}

/** The end of the word at `i`, so a snippet does not close mid-word. */
function wordEnd(s: string, i: number): number {
  if (i >= s.length) return s.length;
  const space = s.lastIndexOf(' ', i);
  return space <= 0 || i - space > WORD_SLACK ? boundary(s, i) : space;
}

/** `i`, or one before it when `i` would split a surrogate pair. */
function boundary(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c >= 0xdc00 && c <= 0xdfff ? i - 1 : i;
}
