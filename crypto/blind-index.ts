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

/**
 * Splits text into search tokens: NFKC, lowercase, diacritics stripped, dates written with a
 * month name removed, split on anything that is not a Unicode letter or digit; keeps tokens of
 * 2..64 characters; drops stop words and every token that starts with a digit; applies
 * {@link stem}. Over-long tokens are dropped, not truncated (they are not words).
 *
 * No numbers, on purpose: a blinded token is the same for every item holding the same value,
 * so the tokens of "HbA1c 9.1%" next to a clear date let a reader of the database label values
 * (SECURITY.md "The blind index"). Dates are searched with the date filters; codes and values
 * through the records views. Use the same function for documents and queries.
 */
export function tokenize(text: string): string[] {
  const normalized = text
    .normalize('NFKC')
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .normalize('NFC')
    .replace(WRITTEN_DATE, ' ');
  const out: string[] = [];
  for (const raw of normalized.split(/[^\p{L}\p{N}]+/u)) {
    if (raw.length === 0) continue;
    const len = [...raw].length;
    if (len > MAX_TOKEN) continue;
    if (len < MIN_TOKEN || NUMBER_LED.test(raw)) continue;
    if (STOP_WORDS.has(raw)) continue;
    const t = stem(raw);
    if (STOP_WORDS.has(t)) continue;
    out.push(t);
  }
  return out;
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
  const wanted = new Set(tokenize(query));
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
  return [...new Set(tokenize(query))].map((t) => blindToken(indexKey, t));
}
