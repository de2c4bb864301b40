import type { NewItem } from '../../server/services/items.service.js';
import { mulberry32 as prng } from '../random.js';

/**
 * A deterministic generator of vault items shaped like a real person's: word frequencies that
 * follow Zipf's law over a 20,000-word vocabulary (a few words everywhere, most words rare),
 * note lengths from a one-line reminder to a long letter (log-normal, 3 to 600 words), a few
 * tags from a small set, dates spread over ten years and arriving out of order, and some notes
 * saved twice. Used by the search tests and the search bench, so both see the same shape.
 */
export interface Corpus {
  /** The i-th most frequent word (0-based). */
  word(rank: number): string;
  readonly vocabulary: number;
  /** Items `from` .. `from + count - 1` of this corpus (the same for the same seed). */
  items(from: number, count: number): NewItem[];
}

const TAGS = ['health', 'family', 'work', 'labs', 'medication', 'travel', 'insurance', 'dentist', 'sleep', 'running', 'allergy', 'recipes'];
const KINDS: Array<NewItem['kind']> = ['note', 'note', 'note', 'note', 'document', 'record'];
const ONSET = 'b c d f g h j k l m n p r t v w z br cr dr fr gr pl pr st tr ch sh th'.split(' ');
const VOWEL = 'a e i o u ai ea ou io'.split(' ');
const CODA = ['', '', 'n', 'm', 'l', 'r', 'x', 'nd', 'nt', 'rk', 'lt'];
const DAY = 86_400_000;
const START = Date.UTC(2016, 0, 1);

export function corpus(seed = 1, vocabulary = 20_000): Corpus {
  const rnd = prng(seed);
  const words: string[] = [];
  const seen = new Set<string>();
  while (words.length < vocabulary) {
    const syllables = 1 + Math.floor(rnd() * 3);
    let w = '';
    for (let s = 0; s < syllables; s++) w += ONSET[Math.floor(rnd() * ONSET.length)]! + VOWEL[Math.floor(rnd() * VOWEL.length)]!;
    w += CODA[Math.floor(rnd() * CODA.length)]!;
    if (w.length < 3 || seen.has(w)) continue;
    seen.add(w);
    words.push(w);
  }
  // Zipf (s = 1.07, as measured on English text): cumulative weights for inverse-CDF sampling.
  const cdf = new Float64Array(vocabulary);
  let total = 0;
  for (let r = 0; r < vocabulary; r++) cdf[r] = total += 1 / (r + 1) ** 1.07;
  const pick = (u: number) => {
    const x = u * total;
    let lo = 0;
    let hi = vocabulary - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return words[lo]!;
  };

  const item = (i: number): NewItem => {
    // Each item has its own stream, so any slice of the corpus is the same whoever asks.
    const r = prng(seed * 1_000_003 + (i % 50 === 7 ? i - 1 : i)); // every 50th item repeats the one before
    const normal = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const length = Math.min(600, Math.max(3, Math.round(Math.exp(3.8 + 0.9 * normal))));
    const sentence = (n: number) => Array.from({ length: n }, () => pick(r())).join(' ');
    const text: string[] = [];
    for (let left = length; left > 0;) {
      const n = Math.min(left, 5 + Math.floor(r() * 15));
      const s = sentence(n);
      text.push(`${s[0]!.toUpperCase()}${s.slice(1)}.`);
      left -= n;
    }
    const tags = TAGS.filter(() => r() < 0.08);
    return {
      kind: KINDS[Math.floor(r() * KINDS.length)]!,
      source: 'manual',
      title: sentence(2 + Math.floor(r() * 6)),
      text: text.join(' '),
      tags,
      occurredAt: new Date(START + Math.floor(r() * 3650) * DAY + Math.floor(r() * DAY)).toISOString(),
    };
  };

  return { word: (rank) => words[rank]!, vocabulary, items: (from, count) => Array.from({ length: count }, (_, k) => item(from + k)) };
}
