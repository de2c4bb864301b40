import type { ItemFilters } from './useItems';

/**
 * The vault's view: where it is (folder, trash tab, kind and source filters) lives in its address,
 * so Back, a reload and "Back to vault" bring the same place back; the last one shown is kept for
 * this tab, for the links that lead back to the vault from an item. The words (search text and
 * tag) are vault content: they are kept in this page's memory only, as kept drafts are, never in
 * the address (browser history, the page's request line) or in browser storage. A reload or a
 * new tab starts without them.
 */
export interface VaultView {
  filters: ItemFilters;
  q: string;
  view: 'items' | 'trash';
}

/** The words of the view, held for this page's life: a search and a tag to come back to. */
export interface VaultWords {
  q: string;
  tag?: string;
}

const KEY = 'cv-vault-search';
const PLACE_KEYS = ['kind', 'source', 'folderId'] as const;
/** Address names for the filters: short, and what a person reading the address would expect. */
const PARAM: Record<(typeof PLACE_KEYS)[number], string> = { kind: 'kind', source: 'source', folderId: 'folder' };

let words: VaultWords = { q: '' };

export function vaultWords(): VaultWords {
  return words;
}

export function rememberVaultWords(w: VaultWords): void {
  words = w;
}

/** At sign-out and when another account signs in: one person's searches are not the next one's. */
export function forgetVaultWords(): void {
  words = { q: '' };
}

/** The view an address and the page's words give. */
export function readVaultView(search: string, w: VaultWords = words): VaultView {
  const p = new URLSearchParams(search);
  const filters: ItemFilters = {};
  for (const k of PLACE_KEYS) {
    const v = p.get(PARAM[k]);
    if (v) filters[k] = v;
  }
  if (w.tag) filters.tag = w.tag;
  return { filters, q: w.q, view: p.get('view') === 'trash' ? 'trash' : 'items' };
}

/** "?folder=…&view=trash" for a view ("" for the plain vault): its place only. Other parameters in `search` are kept. */
export function vaultSearch(v: VaultView, search = ''): string {
  const p = new URLSearchParams(search);
  for (const k of PLACE_KEYS) {
    const value = v.filters[k];
    if (value) p.set(PARAM[k], value);
    else p.delete(PARAM[k]);
  }
  // Addresses written before the words left them.
  p.delete('q');
  p.delete('tag');
  if (v.view === 'trash') p.set('view', 'trash');
  else p.delete('view');
  const s = p.toString();
  return s ? `?${s}` : '';
}

export function rememberVaultSearch(search: string): void {
  try {
    sessionStorage.setItem(KEY, search);
  } catch {
    // Storage may be off (private mode): the link then leads to the plain vault.
  }
}

/** Where "Back to vault" leads: the vault as it was last shown in this tab. */
export function lastVaultHref(): string {
  let s = '';
  try {
    s = sessionStorage.getItem(KEY) ?? '';
  } catch {
    s = '';
  }
  return s.startsWith('?') ? `/vault${s}` : '/vault';
}
