/**
 * Splits an item into the passages that are embedded one by one. Extracted document text
 * separates pages with a form feed (page N = the N-th `\f`-separated segment); a text without
 * one is a single passage set with no page. Offsets point into the item's text so a citation can
 * quote the passage again from the decrypted item without storing it twice.
 */
export interface Passage {
  /** 1-based page, or null for text without pages. */
  page: number | null;
  start: number;
  end: number;
}

/** Roughly a paragraph or two: small enough to be about one thing, big enough to carry context. */
export const PASSAGE_CHARS = 800;
/** Bounds the work and memory one item may take (≈ 200 pages of dense text). */
export const MAX_PASSAGES = 512;

export function passages(text: string): Passage[] {
  const out: Passage[] = [];
  const paged = text.includes('\f');
  let pageStart = 0;
  let page = 1;
  for (const segment of text.split('\f')) {
    splitPage(segment, pageStart, paged ? page : null, out);
    pageStart += segment.length + 1;
    page++;
    if (out.length >= MAX_PASSAGES) return out.slice(0, MAX_PASSAGES);
  }
  return out;
}

/** Greedy: paragraphs are joined until the next would pass {@link PASSAGE_CHARS}; longer ones are cut. */
function splitPage(segment: string, offset: number, page: number | null, out: Passage[]): void {
  const paras: Array<[number, number]> = [];
  const re = /\S[\s\S]*?(?=\n\s*\n|$)/g;
  for (let m = re.exec(segment); m; m = re.exec(segment)) {
    const s = m.index;
    const e = s + m[0].trimEnd().length;
    for (let i = s; i < e; i += PASSAGE_CHARS) paras.push([i, Math.min(e, i + PASSAGE_CHARS)]);
    if (m[0].length === 0) re.lastIndex++;
  }
  let cur: [number, number] | null = null;
  for (const p of paras) {
    if (cur && p[1] - cur[0] <= PASSAGE_CHARS) cur[1] = p[1];
    else {
      if (cur) out.push({ page, start: offset + cur[0], end: offset + cur[1] });
      cur = [p[0], p[1]];
    }
  }
  if (cur) out.push({ page, start: offset + cur[0], end: offset + cur[1] });
}

/** What the model embeds for a passage: the item's title gives every passage its context. */
export function passageInput(title: string, text: string, p: Passage | undefined): string {
  const body = p ? text.slice(p.start, p.end) : '';
  return body ? `${title}\n${body}` : title;
}
