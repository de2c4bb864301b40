/** Matching phrases in a normalised question, and blanking out what matched. */

/** A phrase pattern that only matches whole words (letters and digits on neither side). */
export const rx = (src: string) => new RegExp(`(?<![\\p{L}\\p{N}])${src}(?![\\p{L}\\p{N}])`, 'gu');

export function normalise(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc`]/g, "'")
    .replace(/[\u2010-\u2015\u2212]/g, '-')
    .replace(/\s+/g, ' ');
}

export function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '\\s+');
}

/** Blanks with a separator, so two words either side of a removed phrase never form a new one. */
const GAP = ' | ';

export function consume(text: string, re: RegExp, onMatch: (m: RegExpMatchArray) => boolean): string {
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
