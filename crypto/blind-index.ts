import { createHmac } from 'node:crypto';
import { assertKey } from './util.js';

/** Bytes kept from each HMAC: 128 bits is plenty to avoid collisions in one user's index. */
export const BLIND_TOKEN_BYTES = 16;
const MIN_TOKEN = 2;
const MAX_TOKEN = 64;

// Deliberately small: only words that carry no search meaning. Negations ("no", "not",
// "without") are kept because they matter in health notes ("no known allergies").
const STOP_WORDS: ReadonlySet<string> = new Set([
  'a',
  'an',
  'and',
  'are',
  'as',
  'at',
  'be',
  'been',
  'but',
  'by',
  'for',
  'from',
  'had',
  'has',
  'have',
  'he',
  'her',
  'his',
  'i',
  'if',
  'in',
  'into',
  'is',
  'it',
  'its',
  'me',
  'my',
  'of',
  'on',
  'or',
  'our',
  'she',
  'so',
  'than',
  'that',
  'the',
  'their',
  'them',
  'then',
  'there',
  'these',
  'they',
  'this',
  'those',
  'to',
  'too',
  'us',
  'was',
  'we',
  'were',
  'what',
  'when',
  'which',
  'who',
  'will',
  'with',
  'you',
  'your',
]);

const ASCII_WORD = /^[a-z]+$/;
/** A token that starts with a digit: a number, a measurement ("10mg"), an ordinal, a date or time part. */
const NUMBER_LED = /^\p{N}/u;
/**
 * Dates written out with a month name, as the server writes them into record text ("17 Oct 2019",
 * "Oct 2019", "October 17, 2019"): their month word would otherwise be the one token left of them.
 */
const MONTH = '(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)';
const WRITTEN_DATE = new RegExp(
  `(?<![\\p{L}\\p{N}])(?:\\p{N}{1,2}\\s+${MONTH}\\.?,?\\s+\\p{N}{4}|${MONTH}\\.?\\s+(?:\\p{N}{1,2},?\\s+)?\\p{N}{4})(?![\\p{L}\\p{N}])`,
  'gu',
);
const VOWEL = /[aeiouy]/;

/**
 * Light English stemmer (plural -s/-es/-ies, -ing, -ed, final -e). It only needs to map
 * related forms to the same token, never to produce real words, because tokens are blinded
 * and never shown. Applied only to plain a-z words so other scripts and codes stay intact.
 */
export function stem(word: string): string {
  if (!ASCII_WORD.test(word) || word.length <= 3) return word;
  let w = word;
  // Plurals.
  if (w.endsWith('ies') && w.length > 4) w = w.slice(0, -3) + 'y';
  else if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (/(?:ch|sh|x|z)es$/.test(w)) w = w.slice(0, -2);
  else if (w.endsWith('s') && !/(?:ss|us|is)$/.test(w)) w = w.slice(0, -1);
  // Verb endings, only if a real stem (with a vowel, >= 3 letters) remains.
  for (const suffix of ['ing', 'ed']) {
    if (w.endsWith(suffix)) {
      const base = w.slice(0, -suffix.length);
      if (base.length >= 3 && VOWEL.test(base)) {
        // running -> runn -> run, but keep ll/ss/zz (filling -> fill).
        w = /([^aeiouylsz])\1$/.test(base) ? base.slice(0, -1) : base;
      }
      break;
    }
  }
  // "diagnose"/"diagnosed", "dose"/"doses", "take"/"taking" meet at the same stem.
  if (w.length > 3 && w.endsWith('e') && !w.endsWith('ee')) w = w.slice(0, -1);
  return w;
}

/** Han, kana and Hangul: written without spaces between words, so a run of them holds many words. */
const CJK_CHAR = /[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Hangul}]/u;
const CJK_RUN = /([\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Hangul}]+)/u;

/** Whether `text` holds Han, kana or Hangul, which {@link tokenize} reads by characters and pairs of characters. */
export function hasCjk(text: string): boolean {
  return CJK_CHAR.test(text);
}

/** What a search asks for, or what a document holds: they differ only in runs of CJK characters. */
export type TokenizeMode = 'document' | 'query';

function normalize(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .normalize('NFC');
}

/**
 * Splits text into search tokens: NFKC, lowercase, diacritics stripped, dates written with a
 * month name removed, split on anything that is not a Unicode letter or digit; keeps tokens of
 * 2..64 characters; drops stop words and every token that starts with a digit; applies
 * {@link stem}. Over-long tokens are dropped, not truncated (they are not words).
 *
 * Han, kana and Hangul are written without spaces, so a run of them is not one word: a document
 * gives each character and each overlapping pair of characters ("高血压" → 高, 血, 压, 高血, 血压),
 * a query its pairs, or its character when it has only one, so "血压" finds "高血压" and "癌" finds
 * "胃癌" (the bigram indexing of Lucene's CJK analyzers, with unigrams for one-character words).
 *
 * No numbers, on purpose: a blinded token is the same for every item holding the same value,
 * so the tokens of "HbA1c 9.1%" next to a clear date let a reader of the database label values
 * (SECURITY.md "The blind index"). Dates are searched with the date filters; codes and values
 * through the records views. Documents and queries go through the same function, queries with mode `'query'`.
 */
export function tokenize(text: string, mode: TokenizeMode = 'document'): string[] {
  const normalized = normalize(text).replace(WRITTEN_DATE, ' ');
  const cjk = CJK_CHAR.test(normalized);
  const out: string[] = [];
  for (const raw of normalized.split(/[^\p{L}\p{N}]+/u)) {
    if (raw.length === 0) continue;
    if (!cjk || !CJK_CHAR.test(raw)) {
      pushWord(raw, out);
      continue;
    }
    // Odd parts are CJK runs: "2型糖尿病" is "2" and "型糖尿病".
    raw.split(CJK_RUN).forEach((part, i) => {
      if (i % 2 === 0) {
        if (part) pushWord(part, out);
      } else pushCjk([...part], mode, out);
    });
  }
  return out;
}

function pushWord(raw: string, out: string[]): void {
  const len = [...raw].length;
  if (len > MAX_TOKEN) return;
  if (len < MIN_TOKEN || NUMBER_LED.test(raw)) return;
  if (STOP_WORDS.has(raw)) return;
  const t = stem(raw);
  if (STOP_WORDS.has(t)) return;
  out.push(t);
}

function pushCjk(chars: string[], mode: TokenizeMode, out: string[]): void {
  // One push per character: spreading a run of hundreds of thousands of characters (a long
  // unpunctuated Chinese text) into push's arguments overflows the stack.
  if (mode === 'document' || chars.length === 1) for (const c of chars) out.push(c);
  for (let i = 0; i + 1 < chars.length; i++) out.push(chars[i]! + chars[i + 1]!);
}

/** A word of plain ASCII letters: NFKC and diacritic folding leave it as it is, and stem() applies. */
const PLAIN_WORD = /^[A-Za-z]+$/;

/**
 * Whether a single word of a text is one of the query's tokens, as {@link tokenize} would make it:
 * for marking matched words in a decrypted text. Tokenizing every word of a page of results cost a
 * search about as much as decrypting it, and most words cannot match: {@link stem} only rewrites
 * the end of a plain word (cutting a suffix, or "-ies" to "-y"), so a plain word can only become a
 * token whose every letter but the last begins it. Other words are tokenized, and remembered (at
 * most 10,000) for as long as the returned function lives.
 */
export function wordMatcher(query: string): (word: string) => boolean {
  const wanted = new Set(tokenize(query, 'query'));
  const heads = [...wanted].map((t) => t.slice(0, -1));
  const memo = new Map<string, boolean>();
  return (word) => {
    if (PLAIN_WORD.test(word)) {
      const lower = word.toLowerCase();
      if (!heads.some((head) => lower.startsWith(head))) return false;
    }
    let hit = memo.get(word);
    if (hit === undefined) {
      const t = tokenize(word);
      hit = t.length === 1 && wanted.has(t[0]!);
      if (memo.size < 10_000) memo.set(word, hit);
    }
    return hit;
  };
}

/**
 * Where a word that holds Han, kana or Hangul contains the query's tokens, as `[start, end)`
 * offsets into the word, overlapping matches merged: such a word is a whole run of text, so it
 * is marked in parts (see {@link tokenize}). Empty when the query has no CJK tokens.
 */
export function cjkMatcher(query: string): (word: string) => Array<[number, number]> {
  const wanted = new Set(tokenize(query, 'query').filter((t) => CJK_CHAR.test(t)));
  return (word) => {
    const spans: Array<[number, number]> = [];
    if (wanted.size === 0 || !CJK_CHAR.test(word)) return spans;
    // Each CJK character of the word, folded as tokenize folds it, with where it stands.
    const chars: Array<{ c: string; start: number; end: number } | null> = [];
    for (let i = 0; i < word.length;) {
      const cp = word.codePointAt(i)!;
      const end = i + (cp > 0xffff ? 2 : 1);
      const c = normalize(word.slice(i, end));
      chars.push(CJK_CHAR.test(c) ? { c, start: i, end } : null);
      i = end;
    }
    const mark = (start: number, end: number) => {
      const last = spans[spans.length - 1];
      if (last && start <= last[1]) last[1] = Math.max(last[1], end);
      else spans.push([start, end]);
    };
    chars.forEach((a, i) => {
      if (!a) return;
      const b = chars[i + 1];
      if (b && wanted.has(a.c + b.c)) mark(a.start, b.end);
      else if (wanted.has(a.c)) mark(a.start, a.end);
    });
    return spans;
  };
}

/** Token -> occurrence count for a document (for ranking on the server). */
export function termFrequencies(text: string): Map<string, number> {
  const tf = new Map<string, number>();
  for (const t of tokenize(text)) tf.set(t, (tf.get(t) ?? 0) + 1);
  return tf;
}

/**
 * Blinded token: HMAC-SHA256(indexKey, utf8(token)) truncated to 16 bytes. The server can
 * match equal tokens without learning them; the key is the user's `index` subkey.
 */
export function blindToken(indexKey: Uint8Array, token: string): Buffer {
  assertKey(indexKey, 'index key');
  return Buffer.from(createHmac('sha256', indexKey).update(token, 'utf8').digest().subarray(0, BLIND_TOKEN_BYTES));
}

/** Convenience for queries: tokenize, dedupe, blind. */
export function blindQuery(indexKey: Uint8Array, query: string): Buffer[] {
  return [...new Set(tokenize(query, 'query'))].map((t) => blindToken(indexKey, t));
}
