/**
 * Where keyboard and screen-reader focus goes when the control that had it disappears (a deleted
 * row, a closed dialog whose opener is gone, a new page). Without this it falls to <body> and a
 * keyboard user starts again from the top of the page.
 */

/** Focus fell to <body> (or nowhere): its element was removed or disabled. */
export function focusLost(): boolean {
  const el = document.activeElement;
  return !el || el === document.body || !el.isConnected;
}

/** Focuses a heading or region that is not a control itself (made focusable by script only). */
export function focusStatic(el: HTMLElement | null | undefined): boolean {
  if (!el?.isConnected) return false;
  if (!el.hasAttribute('tabindex')) el.setAttribute('tabindex', '-1');
  el.focus();
  return document.activeElement === el;
}

/** The page's own heading, else its main region: where a new page (or a page that lost its control) starts. */
export function focusPageHeading(): void {
  const main = document.getElementById('main');
  const heading = (main ?? document).querySelector<HTMLElement>('h1');
  if (!focusStatic(heading)) focusStatic(main);
}

/**
 * After a row was removed from a list: the same place's control in the next row, else the last
 * row's (the removed one was the last), else `fallback` (the list is empty now).
 */
export function focusRowControl(list: HTMLElement | null, index: number, selector: string, fallback: () => void): void {
  const controls = list ? [...list.querySelectorAll<HTMLElement>(selector)] : [];
  const target = controls[Math.min(index, controls.length - 1)];
  if (target) target.focus();
  else fallback();
}
