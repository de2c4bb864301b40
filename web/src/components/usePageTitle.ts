import { useEffect } from 'react';

/** The window title when no page names itself (web/index.html says the same). */
export const APP_TITLE = 'Context Vault';

/**
 * Names the page in the window title ("Health · Context Vault"): the browser's history menu, its
 * tab list and a screen reader's window name tell pages apart by it (WCAG 2.4.2).
 *
 * Pass a page's kind, never vault content (an item's or a chat's title, a lab's name): window
 * titles leave the page (screen sharing shows them, the OS task switcher and browser history keep
 * them), and the vault's text is meant to be seen only inside it.
 */
export function usePageTitle(page: string): void {
  useEffect(() => {
    document.title = `${page} · ${APP_TITLE}`;
    return () => {
      document.title = APP_TITLE;
    };
  }, [page]);
}
