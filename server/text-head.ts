/**
 * The start of `text`, at most `max` UTF-16 units, never ending on the first half of a surrogate
 * pair: what is cut (a stored extraction, a list preview) must still be valid text to show,
 * search and save back.
 */
export function textHead(text: string, max: number): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}
