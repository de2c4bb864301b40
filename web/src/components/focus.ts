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

/**
 * Starts a page reached by navigation at its heading, so a screen reader names the new page. A
 * lazy or loading page has no heading yet: focus waits on the main region and moves to the
 * heading when it appears, or when a loading heading is replaced by the loaded one. It stops
 * following as soon as the person acts (a key, a click, focus put elsewhere) or after `waitMs`.
 * Returns the function that stops it (the next page's navigation).
 */
export function focusNewPage(waitMs = 10_000): () => void {
  const main = document.getElementById('main');
  const place = (): HTMLElement | null => {
    const heading = (main ?? document).querySelector<HTMLElement>('h1');
    if (focusStatic(heading)) return heading;
    return focusStatic(main) ? main : null;
  };
  let placed = place();
  if (!main) return () => undefined;

  const waiting = (): boolean => {
    const el = document.activeElement;
    return focusLost() || el === main || el === placed;
  };
  const observer = new MutationObserver(() => {
    if (!waiting()) return stop();
    // Focus is on the main region (nothing to name yet) or fell from a heading that went away.
    if (focusLost() || document.activeElement === main) placed = place();
  });
  observer.observe(main, { childList: true, subtree: true });
  const timer = setTimeout(stop, waitMs);
  const acted = () => stop();
  window.addEventListener('keydown', acted, true);
  window.addEventListener('pointerdown', acted, true);
  function stop() {
    observer.disconnect();
    clearTimeout(timer);
    window.removeEventListener('keydown', acted, true);
    window.removeEventListener('pointerdown', acted, true);
  }
  return stop;
}
