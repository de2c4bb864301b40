/**
 * Colour scheme: the system setting unless the user picked one in Settings → Appearance. The
 * choice lives in localStorage (it is not vault data) and becomes `<html data-theme>`, which
 * theme-dark.css keys on.
 */
export type ThemePref = 'system' | 'light' | 'dark';

const KEY = 'cv-theme';
const query = () => (typeof window.matchMedia === 'function' ? window.matchMedia('(prefers-color-scheme: dark)') : null);

export function getThemePref(): ThemePref {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

function apply(pref: ThemePref): void {
  const dark = pref === 'dark' || (pref === 'system' && !!query()?.matches);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
}

export function setThemePref(pref: ThemePref): void {
  try {
    if (pref === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, pref);
  } catch {
    /* storage refused: the choice lasts for this page only */
  }
  apply(pref);
}

/** Applies the stored choice now and follows system changes while it is "system". */
export function startTheme(): void {
  apply(getThemePref());
  query()?.addEventListener('change', () => apply(getThemePref()));
}
