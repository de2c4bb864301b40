import { describe, expect, it } from 'vitest';
import { textHead } from '../text-head.js';
import { boundTexts, PAGE_TEXT_BUDGET, PREVIEW_CHARS } from './page-text.js';

describe('item text previews', () => {
  it('never ends a preview on half of a surrogate pair', () => {
    for (let at = 0; at < 4; at++) {
      const text = `${'x'.repeat(PREVIEW_CHARS - 2 + at)}😀😀${'y'.repeat(10)}`;
      const cut = textHead(text, PREVIEW_CHARS);
      expect(cut.length).toBeLessThanOrEqual(PREVIEW_CHARS);
      expect(text.startsWith(cut)).toBe(true);
      expect(cut).toBe(cut.normalize());
      expect(/[\uD800-\uDBFF]$/.test(cut)).toBe(false);
    }
  });

  it('keeps whole what fits in the rest of the page budget, in page order', () => {
    const item = (n: number) => ({ text: 'z'.repeat(n) });
    const page = boundTexts([item(PAGE_TEXT_BUDGET - 10), item(PREVIEW_CHARS + 20), item(10), item(PREVIEW_CHARS), item(PREVIEW_CHARS + 1)]);
    expect(page.map((i) => [i.text.length, i.textTruncated ?? false])).toEqual([
      [PAGE_TEXT_BUDGET - 10, false],
      [PREVIEW_CHARS, true],
      [10, false],
      // Short enough to be its own preview: never marked.
      [PREVIEW_CHARS, false],
      [PREVIEW_CHARS, true],
    ]);
    expect(boundTexts([item(PREVIEW_CHARS + 1)], 'preview')[0]).toEqual({ text: 'z'.repeat(PREVIEW_CHARS), textTruncated: true });
  });
});
