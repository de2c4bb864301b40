import { memo } from 'react';
import type { Item } from '../../api/types';
import { Link } from '../../app/router';
import { Badge } from '../../components/ui/Feedback';
import { formatDate, KIND_LABELS, SOURCE_LABELS } from '../../components/format';
import { UserText } from '../../components/UserText';
import { ExtractionBadge } from './Extraction';
import { Marked } from './Marked';
import { ITEM_DRAG_TYPE } from './useFolders';

export const KIND_TONE = { note: 'teal', document: 'sky', record: 'violet', series: 'amber' } as const;

export function KindIcon({ kind }: { kind: string }) {
  const common = 'h-5 w-5';
  if (kind === 'note')
    return (
      <svg className={common} viewBox="0 0 20 20" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="1.6">
        <path d="M5 3h7l3 3v11H5z" />
        <path d="M8 9h5M8 12h5M8 15h3" />
      </svg>
    );
  if (kind === 'document')
    return (
      <svg className={common} viewBox="0 0 20 20" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="1.6">
        <path d="M5 2.5h6.5L15 6v11.5H5z" />
        <path d="M11 2.5V6.5h4" />
      </svg>
    );
  return (
    <svg className={common} viewBox="0 0 20 20" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="1.6">
      <path d="M2.5 10h3l2-5 3 10 2-5h5" />
    </svg>
  );
}

/** `more`: the text is a preview the server cut (`textTruncated`), so it goes on even when short. */
export function snippet(text: string, n = 140, more = false): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > n ? `${t.slice(0, n)}…` : more && t ? `${t}…` : t;
}

/** Memoised: while scrolling, rows that stay in view are not rendered again. */
export const ItemRow = memo(function ItemRow({ item, highlight }: { item: Item; highlight?: string }) {
  const tone = KIND_TONE[item.kind] ?? 'stone';
  return (
    <Link
      to={`/vault/${item.id}`}
      draggable
      onDragStart={(e) => {
        // Dropped on a folder, the row moves the item there.
        e.dataTransfer.setData(ITEM_DRAG_TYPE, item.id);
        e.dataTransfer.effectAllowed = 'move';
      }}
      className="group flex h-full items-center gap-3 border-b border-stone-100 px-4 hover:bg-stone-50 focus-visible:bg-teal-50 focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-teal-600"
    >
      <span className="shrink-0 text-stone-400 group-hover:text-teal-700">
        <KindIcon kind={item.kind} />
      </span>
      {/* The title keeps room of its own: tags and badges give way to it, not the other way round. */}
      <span className="min-w-[7rem] flex-1">
        <span className="flex min-w-0 items-center gap-2">
          <UserText data-testid="item-title" className="block min-w-[4rem] truncate text-sm font-medium text-stone-900">
            {item.title || 'Untitled'}
          </UserText>
          <span className="min-w-0 max-w-[50%] shrink-0">
            <ExtractionBadge extraction={item.extraction} truncate />
          </span>
        </span>
        {highlight ? (
          <Marked text={highlight} className="block truncate text-xs text-stone-500" />
        ) : (
          <span className="block truncate text-xs text-stone-500">{snippet(item.text || '', 140, item.textTruncated) || '\u00a0'}</span>
        )}
      </span>
      <span className="hidden min-w-0 max-w-[40%] shrink items-center gap-1.5 overflow-hidden md:flex">
        {item.tags.slice(0, 2).map((t) => (
          <span key={t} className="min-w-[3.5rem] max-w-[9rem]">
            <Badge truncate title={`#${t}`}>
              #<UserText>{t}</UserText>
            </Badge>
          </span>
        ))}
        <span className="shrink-0">
          <Badge tone={tone}>{KIND_LABELS[item.kind] ?? item.kind}</Badge>
        </span>
        <span className="w-24 shrink-0 text-right text-xs text-stone-500">{SOURCE_LABELS[item.source] ?? item.source}</span>
      </span>
      <span className="w-24 shrink-0 text-right text-xs tabular-nums text-stone-500">{formatDate(item.occurredAt ?? item.createdAt)}</span>
    </Link>
  );
});
