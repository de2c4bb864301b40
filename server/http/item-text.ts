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
 * A page's items as a list or search answers with them: each as a preview in `preview` mode;
 * otherwise whole while it fits in what is left of the page's text budget, else as a preview.
 * Items cut say so, so a client knows to fetch `GET /api/items/:id` for the rest.
 */
export function boundTexts<T extends { text: string }>(items: readonly T[], mode: TextMode = 'full'): Array<T & { textTruncated?: boolean }> {
  let left = mode === 'preview' ? 0 : PAGE_TEXT_BUDGET;
  return items.map((item) => {
    const n = item.text.length;
    if (n <= PREVIEW_CHARS || n <= left) {
      left = Math.max(0, left - n);
      return item;
    }
    return { ...item, text: textHead(item.text, PREVIEW_CHARS), textTruncated: true };
  });
}
