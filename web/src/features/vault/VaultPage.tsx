import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import { api, ApiError, qs } from '../../api/client';
import type { Item, SearchMode, SearchResult, Tag } from '../../api/types';
import { KeywordOnly } from '../chat/AnswerTools';
import { useQueryParam, useRouter } from '../../app/router';
import { VirtualList } from '../../components/VirtualList';
import { Button, Spinner, TOUCH_TARGET } from '../../components/ui/Button';
import { EmptyState, ErrorText, PageHeader } from '../../components/ui/Feedback';
import { SelectField } from '../../components/ui/Field';
import { KIND_LABELS, SOURCE_LABELS } from '../../components/format';
import { Breadcrumbs, FolderTree } from './FolderTree';
import { ItemRow } from './ItemRow';
import { NewNoteDialog } from './NoteEditor';
import { TrashList } from './TrashList';
import { UploadList } from './UploadList';
import { useFolders } from './useFolders';
import { useItems, type ItemFilters } from './useItems';
import { readVaultView, rememberVaultSearch, rememberVaultWords, vaultSearch, vaultWords, type VaultView } from './vaultLocation';
import { useUploads } from './useUploads';
import { usePageTitle } from '../../components/usePageTitle';

const ROW = 64;
/** The server's limit on a search (contract/items.ts SearchQuery). */
export const MAX_SEARCH_CHARS = 500;

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

function useSearch(q: string, filters: ItemFilters) {
  const query = useDebounced(q.trim(), 250);
  // The list's filters narrow a search too (the API takes the same ones).
  const { kind, source, tag, folderId } = filters;
  const [results, setResults] = useState<SearchResult[] | null>(null);
  const [mode, setMode] = useState<SearchMode | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (!query) {
      setResults(null);
      setError(null);
      return;
    }
    const ctl = new AbortController();
    setLoading(true);
    setError(null);
    api
      .get<{ results: SearchResult[]; mode?: SearchMode }>(`/api/search${qs({ q: query, limit: 50, kind, source, tag, folderId, text: 'preview' })}`, {
        signal: ctl.signal,
      })
      .then((r) => {
        setResults(r.results);
        setMode(r.mode ?? null);
      })
      .catch((e) => {
        if ((e as { name?: string }).name === 'AbortError') return;
        // A search that failed found nothing: its earlier results or "0 results" would mislead.
        setResults(null);
        setError(e);
      })
      .finally(() => !ctl.signal.aborted && setLoading(false));
    return () => ctl.abort();
  }, [query, kind, source, tag, folderId]);
  return { query, results, mode, loading, error };
}

export function VaultPage() {
  usePageTitle('Vault');
  const { navigate, path, search: address } = useRouter();
  // Folder, tab and kind/source are kept in the address (Back, a reload and "Back to vault" restore
  // them); the search words and tag in this page's memory only (vaultLocation.ts).
  const [words, setWords] = useState(vaultWords);
  const vault = useMemo(() => readVaultView(address, words), [address, words]);
  const { filters, q, view } = vault;
  const setVault = useCallback(
    (change: (v: VaultView) => Partial<VaultView>) => {
      // Read from the address and the held words themselves, so two changes in one event both count.
      const now = readVaultView(window.location.search, vaultWords());
      const next = { ...now, ...change(now) };
      const w = { q: next.q, ...(next.filters.tag ? { tag: next.filters.tag } : {}) };
      rememberVaultWords(w);
      setWords(w);
      navigate(`/vault${vaultSearch(next)}`, { replace: true });
    },
    [navigate],
  );
  const setFilters = (change: (f: ItemFilters) => ItemFilters) => setVault((v) => ({ filters: change(v.filters) }));
  const setQ = (value: string) => setVault(() => ({ q: value }));
  const setView = (value: 'items' | 'trash') => setVault(() => ({ view: value }));
  const shownSearch = vaultSearch(vault);
  useEffect(() => {
    if (path === '/vault') rememberVaultSearch(shownSearch);
  }, [path, shownSearch]);
  const [noteOpen, setNoteOpen] = useState(false);
  const [tags, setTags] = useState<Tag[]>([]);
  const [dragging, setDragging] = useState(false);
  const dragDepth = useRef(0);
  const fileInput = useRef<HTMLInputElement>(null);
  const cameraInput = useRef<HTMLInputElement>(null);
  const searchInput = useRef<HTMLInputElement>(null);
  const folders = useFolders();
  const folderId = filters.folderId ?? null;
  const selectFolder = (id: string | null) => setFilters((f) => ({ ...f, folderId: id ?? undefined }));

  // Keyboard shortcuts (app/Shortcuts.tsx) arrive as ?intent=…; act once, then drop it from the URL.
  const intent = useQueryParam('intent');
  useEffect(() => {
    if (intent === 'new-note') setNoteOpen(true);
    else if (intent === 'search') searchInput.current?.focus();
    else return;
    navigate(`/vault${vaultSearch(readVaultView(window.location.search, vaultWords()))}`, { replace: true });
  }, [intent, navigate]);

  const list = useItems(filters);
  const search = useSearch(q, filters);
  const refreshTags = useCallback(() => {
    api
      .get<{ tags: Tag[] }>('/api/tags')
      .then((r) => setTags(r.tags))
      .catch(() => undefined);
  }, []);
  useEffect(refreshTags, [refreshTags]);

  const uploads = useUploads(
    useCallback(
      (item: Item) => {
        list.upsert(item);
      },
      [list.upsert],
    ),
  );

  const setFilter = (k: keyof ItemFilters, v: string) => setFilters((f) => ({ ...f, [k]: v || undefined }));
  const anyFilter = Boolean(filters.kind || filters.source || filters.tag);

  const onDragEnter = (e: DragEvent) => {
    if (!e.dataTransfer.types.includes('Files')) return;
    e.preventDefault();
    dragDepth.current++;
    setDragging(true);
  };
  const onDragLeave = () => {
    dragDepth.current = Math.max(0, dragDepth.current - 1);
    if (dragDepth.current === 0) setDragging(false);
  };
  const onDragOver = (e: DragEvent) => {
    if (e.dataTransfer.types.includes('Files')) {
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    }
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    dragDepth.current = 0;
    setDragging(false);
    if (e.dataTransfer.files.length) {
      setView('items');
      uploads.add(e.dataTransfer.files);
    }
  };

  return (
    <div onDragEnter={onDragEnter} onDragLeave={onDragLeave} onDragOver={onDragOver} onDrop={onDrop} className="relative">
      <PageHeader
        title="Vault"
        description="Your notes, documents and health records — encrypted with your passphrase."
        actions={
          <>
            <input
              ref={fileInput}
              id="vault-upload"
              type="file"
              multiple
              // Opened by the Upload button: display:none keeps it out of the tab order and the
              // accessibility tree, and focus stays on the button after the chooser closes.
              hidden
              aria-label="Upload files"
              onChange={(e) => {
                if (e.target.files) uploads.add(e.target.files);
                e.target.value = '';
              }}
            />
            {/* On phones: photograph a paper record straight into the vault (the camera opens). */}
            <input
              ref={cameraInput}
              id="vault-camera"
              type="file"
              accept="image/*"
              capture="environment"
              hidden
              aria-label="Take a photo of a document"
              onChange={(e) => {
                if (e.target.files) uploads.add(e.target.files);
                e.target.value = '';
              }}
            />
            <span className="hidden pointer-coarse:contents">
              <Button variant="secondary" onClick={() => cameraInput.current?.click()}>
                Take photo
              </Button>
            </span>
            <Button variant="secondary" onClick={() => fileInput.current?.click()}>
              <svg viewBox="0 0 20 20" className="h-4 w-4" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="1.8">
                <path d="M10 13V3M6 7l4-4 4 4M4 13v3h12v-3" />
              </svg>
              Upload
            </Button>
            <Button onClick={() => setNoteOpen(true)} aria-keyshortcuts="N">
              <svg viewBox="0 0 20 20" className="h-4 w-4" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="2">
                <path d="M10 4v12M4 10h12" />
              </svg>
              New note
            </Button>
          </>
        }
      />

      <UploadList entries={uploads.entries} onCancel={uploads.cancel} onClear={uploads.clearFinished} />

      <div className="mb-4">
        <label htmlFor="vault-search" className="sr-only">
          Search your vault
        </label>
        <div className="relative">
          <svg
            viewBox="0 0 20 20"
            className="pointer-events-none absolute left-3 top-1/2 h-4 w-4 -translate-y-1/2 text-stone-400"
            aria-hidden="true"
            fill="none"
            stroke="currentColor"
            strokeWidth="1.8"
          >
            <circle cx="9" cy="9" r="5.5" />
            <path d="M13 13l4 4" />
          </svg>
          <input
            ref={searchInput}
            aria-keyshortcuts="/"
            id="vault-search"
            type="search"
            role="searchbox"
            placeholder="Search notes, documents and records…"
            value={q}
            maxLength={MAX_SEARCH_CHARS}
            onChange={(e) => setQ(e.target.value)}
            className="block h-11 w-full rounded-xl border border-stone-300 bg-white pl-9 pr-3 text-sm shadow-sm placeholder:text-stone-400 focus:border-teal-600 focus:outline-2 focus:outline-teal-600"
          />
        </div>
        {q.length >= MAX_SEARCH_CHARS && <p className="mt-1 text-xs text-stone-500">A search can be up to {MAX_SEARCH_CHARS} characters.</p>}
      </div>

      {search.query ? (
        <SearchResults
          query={search.query}
          results={search.results}
          mode={search.mode}
          loading={search.loading}
          error={search.error}
          onClear={() => setQ('')}
          filters={activeFilters(filters, folders.pathOf)}
          onRemoveFilter={(k) => setFilters((f) => ({ ...f, [k]: undefined }))}
          onClearFilters={() => setFilters(() => ({}))}
        />
      ) : (
        <>
          <div className="mb-3 flex flex-wrap items-end gap-3">
            <div role="tablist" aria-label="Show" className="mr-auto flex rounded-lg bg-stone-200/70 p-0.5">
              {(['items', 'trash'] as const).map((v) => (
                <button
                  key={v}
                  type="button"
                  role="tab"
                  aria-selected={view === v}
                  onClick={() => setView(v)}
                  className={`rounded-md px-3 py-1 text-sm font-medium focus-visible:outline-2 focus-visible:outline-teal-600 ${TOUCH_TARGET} ${view === v ? 'bg-white text-stone-900 shadow-sm' : 'text-stone-600 hover:text-stone-900'}`}
                >
                  {v === 'items' ? 'All items' : 'Trash'}
                </button>
              ))}
            </div>
            {view === 'items' && (
              <>
                <SelectField label="Kind" value={filters.kind ?? ''} onChange={(e) => setFilter('kind', e.target.value)} className="w-36">
                  <option value="">All kinds</option>
                  {Object.entries(KIND_LABELS).map(([k, l]) => (
                    <option key={k} value={k}>
                      {l}
                    </option>
                  ))}
                </SelectField>
                <SelectField label="Source" value={filters.source ?? ''} onChange={(e) => setFilter('source', e.target.value)} className="w-40">
                  <option value="">All sources</option>
                  {Object.entries(SOURCE_LABELS).map(([k, l]) => (
                    <option key={k} value={k}>
                      {l}
                    </option>
                  ))}
                </SelectField>
                <SelectField label="Tag" value={filters.tag ?? ''} onChange={(e) => setFilter('tag', e.target.value)} className="w-40">
                  <option value="">All tags</option>
                  {tags.map((t) => (
                    <option key={t.name} value={t.name}>
                      {t.name} ({t.count})
                    </option>
                  ))}
                </SelectField>
              </>
            )}
          </div>

          {view === 'trash' ? (
            <TrashList
              onRestored={() => {
                list.reload();
                // A restored item is back in its folder: the folder's count changed too.
                folders.reload();
              }}
            />
          ) : (
            <div className="grid gap-4 md:grid-cols-[14rem_minmax(0,1fr)]">
              <aside>
                <FolderTree
                  api={folders}
                  // Offline, the folders and the list fail with the same sentence: one alert, not two.
                  showError={!(isNetworkError(folders.error) && isNetworkError(list.error))}
                  selected={folderId}
                  onSelect={selectFolder}
                  onMoved={() => {
                    list.reload();
                    folders.reload();
                  }}
                />
              </aside>
              <div className="min-w-0">
                <Breadcrumbs trail={folders.trail(folderId)} onSelect={selectFolder} />
                <ErrorText error={list.error} className="mb-3" />
                {list.items.length === 0 && !list.loading && !list.error ? (
                  folderId ? (
                    <EmptyState title="This folder is empty">Drag items here from the list, or use “Move to folder” on an item.</EmptyState>
                  ) : anyFilter ? (
                    <EmptyState title="Nothing matches these filters">Try another kind, source or tag.</EmptyState>
                  ) : (
                    <EmptyState title="Your vault is empty">
                      Write a note, upload a PDF or drop files anywhere on this page. Health data can be imported from the Health page.
                    </EmptyState>
                  )
                ) : (
                  <div className="overflow-hidden rounded-xl border border-stone-200 bg-white shadow-sm">
                    <VirtualList
                      items={list.items}
                      rowHeight={ROW}
                      label="Vault items"
                      getKey={(i) => i.id}
                      renderRow={(item) => <ItemRow item={item} />}
                      onEndReached={list.loadMore}
                      className="max-h-[calc(100vh-20rem)] min-h-16"
                      footer={
                        list.loading ? (
                          <div className="flex items-center justify-center gap-2 py-3 text-sm text-stone-500" role="status">
                            <Spinner /> Loading…
                          </div>
                        ) : null
                      }
                    />
                  </div>
                )}
                {list.items.length > 0 && (
                  <p className="mt-2 text-xs text-stone-500" aria-live="polite">
                    {list.items.length.toLocaleString()} item{list.items.length === 1 ? '' : 's'} shown{list.done ? '' : ' — scroll for more'}
                  </p>
                )}
              </div>
            </div>
          )}
        </>
      )}

      <NewNoteDialog
        open={noteOpen}
        onOpenChange={setNoteOpen}
        onSaved={(item) => {
          setNoteOpen(false);
          list.upsert(item);
          refreshTags();
          if (folderId) void folders.moveItem(item.id, folderId);
          navigate(`/vault/${item.id}`);
        }}
      />

      {dragging && (
        <div className="pointer-events-none fixed inset-0 z-40 flex items-center justify-center bg-teal-900/10 p-8">
          <div className="rounded-2xl border-2 border-dashed border-teal-600 bg-white/95 px-10 py-8 text-center shadow-lg">
            <p className="text-lg font-semibold text-teal-900">Drop to add to your vault</p>
            <p className="mt-1 text-sm text-stone-600">PDFs and text files are encrypted and indexed for search.</p>
          </div>
        </div>
      )}
    </div>
  );
}

const isNetworkError = (e: unknown) => e instanceof ApiError && e.code === 'network_error';

type FilterKey = 'kind' | 'source' | 'tag' | 'folderId';
interface ActiveFilter {
  key: FilterKey;
  label: string;
  value: string;
}

/** The filters that narrow a search, in words, for the line shown above its results. */
export function activeFilters(filters: ItemFilters, pathOf: (id: string) => string): ActiveFilter[] {
  const out: ActiveFilter[] = [];
  if (filters.kind) out.push({ key: 'kind', label: 'Kind', value: KIND_LABELS[filters.kind] ?? filters.kind });
  if (filters.source) out.push({ key: 'source', label: 'Source', value: SOURCE_LABELS[filters.source] ?? filters.source });
  if (filters.tag) out.push({ key: 'tag', label: 'Tag', value: `#${filters.tag}` });
  if (filters.folderId) out.push({ key: 'folderId', label: 'Folder', value: pathOf(filters.folderId) || 'the chosen folder' });
  return out;
}

function SearchResults({
  query,
  results,
  mode,
  loading,
  error,
  onClear,
  filters,
  onRemoveFilter,
  onClearFilters,
}: {
  query: string;
  results: SearchResult[] | null;
  mode: SearchMode | null;
  loading: boolean;
  error: unknown;
  onClear: () => void;
  filters: ActiveFilter[];
  onRemoveFilter: (key: FilterKey) => void;
  onClearFilters: () => void;
}) {
  return (
    <section aria-label="Search results">
      {/* The list's filters narrow a search too: never silently. */}
      {filters.length > 0 && (
        <div role="group" aria-label="Search filters" className="mb-2 flex flex-wrap items-center gap-2 text-sm text-stone-700">
          <span className="font-medium">Filtered:</span>
          {filters.map((f) => (
            <span
              key={f.key}
              className="inline-flex min-w-0 max-w-full items-center gap-1 rounded-full bg-teal-50 py-0.5 pl-2.5 pr-1 text-xs font-medium text-teal-900 ring-1 ring-teal-200"
            >
              <span className="min-w-0 truncate">
                {f.label} {f.value}
              </span>
              <button
                type="button"
                onClick={() => onRemoveFilter(f.key)}
                aria-label={`Remove filter ${f.label}: ${f.value}`}
                className={`inline-flex items-center justify-center rounded-full px-1 text-teal-800 hover:bg-teal-100 focus-visible:outline-2 focus-visible:outline-teal-600 ${TOUCH_TARGET}`}
              >
                ×
              </button>
            </span>
          ))}
          <button type="button" onClick={onClearFilters} className={`font-medium text-teal-800 hover:underline ${TOUCH_TARGET}`}>
            Search everything
          </button>
        </div>
      )}
      <div className="mb-2 flex items-center justify-between gap-3 text-sm text-stone-600">
        <p aria-live="polite" className="flex min-w-0 items-center gap-2">
          <span className="min-w-0 truncate">
            {loading && !results ? 'Searching…' : results ? `${results.length} result${results.length === 1 ? '' : 's'} for “${query}”` : ''}
          </span>
          {results && mode === 'keyword' && (
            <span className="shrink-0">
              <KeywordOnly />
            </span>
          )}
        </p>
        <button type="button" onClick={onClear} className={`shrink-0 font-medium text-teal-800 hover:underline ${TOUCH_TARGET}`}>
          Clear search
        </button>
      </div>
      <ErrorText error={error} className="mb-3" />
      {results && results.length === 0 ? (
        <EmptyState title="No matches">
          {filters.length > 0
            ? 'Only the filtered items were searched. Remove a filter to search your whole vault, or try a different word.'
            : 'Search looks for whole words in your notes, documents and records. Try a different word.'}
        </EmptyState>
      ) : (
        <ul className="overflow-hidden rounded-xl border border-stone-200 bg-white shadow-sm" aria-label="Results">
          {(results ?? []).map((r) => (
            <li key={r.item.id} className="h-16">
              <ItemRow item={r.item} highlight={r.snippet} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
