import type { ItemFilters } from './useItems';

/**
 * The vault's view (folder, search, trash tab, filters) lives in its address, so Back, a reload and
 * "Back to vault" bring the same view back. The last one shown is kept for this tab, for the links
 * that lead back to the vault from an item.
 */
export interface VaultView {
  filters: ItemFilters;
  q: string;
  view: 'items' | 'trash';
}

const KEY = 'cv-vault-search';
const FILTER_KEYS = ['kind', 'source', 'tag', 'folderId'] as const;
/** Address names for the filters: short, and what a person reading the address would expect. */
const PARAM: Record<(typeof FILTER_KEYS)[number], string> = { kind: 'kind', source: 'source', tag: 'tag', folderId: 'folder' };

export function readVaultView(search: string): VaultView {
  const p = new URLSearchParams(search);
  const filters: ItemFilters = {};
  for (const k of FILTER_KEYS) {
    const v = p.get(PARAM[k]);
    if (v) filters[k] = v;
  }
  return { filters, q: p.get('q') ?? '', view: p.get('view') === 'trash' ? 'trash' : 'items' };
}

/** "?folder=…&q=…" for a view ("" for the plain vault). Other parameters in `search` are kept. */
export function vaultSearch(v: VaultView, search = ''): string {
  const p = new URLSearchParams(search);
  for (const k of FILTER_KEYS) {
    const value = v.filters[k];
    if (value) p.set(PARAM[k], value);
    else p.delete(PARAM[k]);
  }
  if (v.q) p.set('q', v.q);
  else p.delete('q');
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
