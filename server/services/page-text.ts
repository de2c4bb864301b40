import { textHead } from '../text-head.js';
import type { TextMode } from '../../contract/index.js';

/** Characters of an item's text a preview keeps: list rows show a line of it. */
export const PREVIEW_CHARS = 300;

/**
 * Characters of text one full-text list or search page carries whole, all its items together:
 * two of the largest documents (2 million characters each). Unbounded, a page of a hundred large
 * documents was a 200 MB answer that took two gigabytes of server memory to build.
 */
export const PAGE_TEXT_BUDGET = 4_000_000;

/**
 * `s` as a string of its own: V8 keeps a slice of a long string as a view of it, so a preview or
 * snippet cut from a 2-million-character text would keep all of that text alive with the page.
 */
export const detached = (s: string): string => s.split('').join('');

/** An item as a page answers with it: whole, or cut to a preview that says so. */
export type Bounded<T> = T & { textTruncated?: boolean };

/**
 * One page's text budget, spent as the page's items are opened, in page order: each item comes
 * back as a preview in `preview` mode; otherwise whole while it fits in what is left of the
 * budget, else as a preview. Applied to each item as soon as it is decrypted, so a page never
 * holds more than the budget and the one item being opened. Items cut say so, so a client knows
 * to fetch `GET /api/items/:id` for the rest.
 */
export function pageTextBudget(mode: TextMode = 'full'): <T extends { text: string }>(item: T) => Bounded<T> {
  let left = mode === 'preview' ? 0 : PAGE_TEXT_BUDGET;
  return (item) => {
    const n = item.text.length;
    if (n <= PREVIEW_CHARS || n <= left) {
      left = Math.max(0, left - n);
      return item;
    }
    return { ...item, text: detached(textHead(item.text, PREVIEW_CHARS)), textTruncated: true };
  };
}

/** {@link pageTextBudget} over items already in memory. */
export function boundTexts<T extends { text: string }>(items: readonly T[], mode: TextMode = 'full'): Array<Bounded<T>> {
  const fit = pageTextBudget(mode);
  return items.map((item) => fit(item));
}
