import { useCallback, useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';

export interface VirtualListProps<T> {
  items: readonly T[];
  rowHeight: number;
  renderRow: (item: T, index: number) => ReactNode;
  getKey: (item: T, index: number) => string;
  /** Used before the container has been measured (and in jsdom, which measures nothing). */
  initialHeight?: number;
  overscan?: number;
  /** Called when the user scrolls within `endThreshold` rows of the end (infinite scroll). */
  onEndReached?: () => void;
  endThreshold?: number;
  label: string;
  className?: string;
  footer?: ReactNode;
}

/**
 * A fixed-row-height windowed list: only the rows in view (plus overscan) are in the DOM, so
 * ten thousand items scroll as smoothly as ten. Rows are `role="listitem"` inside a
 * `role="list"`; arrow keys, Home and End move focus between rows.
 */
export function VirtualList<T>({
  items,
  rowHeight,
  renderRow,
  getKey,
  initialHeight = 600,
  overscan = 8,
  onEndReached,
  endThreshold = 20,
  label,
  className = '',
  footer,
}: VirtualListProps<T>) {
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(initialHeight);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => {
      if (el.clientHeight > 0) setHeight(el.clientHeight);
    };
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const total = items.length;
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(total, Math.ceil((scrollTop + height) / rowHeight) + overscan);

  const endRef = useRef(onEndReached);
  endRef.current = onEndReached;
  useEffect(() => {
    if (total > 0 && last >= total - endThreshold) endRef.current?.();
  }, [last, total, endThreshold]);

  const onScroll = useCallback(() => {
    const el = ref.current;
    if (el) setScrollTop(el.scrollTop);
  }, []);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const el = ref.current;
    if (!el) return;
    const row = (e.target as HTMLElement).closest<HTMLElement>('[data-index]');
    if (!row) return;
    const idx = Number(row.dataset.index);
    let next: number | null = null;
    if (e.key === 'ArrowDown') next = Math.min(total - 1, idx + 1);
    else if (e.key === 'ArrowUp') next = Math.max(0, idx - 1);
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = total - 1;
    else if (e.key === 'PageDown') next = Math.min(total - 1, idx + Math.floor(height / rowHeight));
    else if (e.key === 'PageUp') next = Math.max(0, idx - Math.floor(height / rowHeight));
    if (next === null) return;
    e.preventDefault();
    const top = next * rowHeight;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + rowHeight > el.scrollTop + el.clientHeight) el.scrollTop = top + rowHeight - (el.clientHeight || height);
    setScrollTop(el.scrollTop);
    const target = next;
    requestAnimationFrame(() => {
      el.querySelector<HTMLElement>(`[data-index="${target}"] a, [data-index="${target}"] button, [data-index="${target}"][tabindex]`)?.focus();
    });
  };

  const rows: ReactNode[] = [];
  for (let i = first; i < last; i++) {
    const item = items[i]!;
    rows.push(
      <div
        key={getKey(item, i)}
        role="listitem"
        data-index={i}
        aria-setsize={total}
        aria-posinset={i + 1}
        className="absolute left-0 right-0"
        style={{ top: i * rowHeight, height: rowHeight }}
      >
        {renderRow(item, i)}
      </div>,
    );
  }

  return (
    <div ref={ref} onScroll={onScroll} onKeyDown={onKeyDown} className={`relative overflow-y-auto ${className}`} data-testid="virtual-scroller">
      <div role="list" aria-label={label} className="relative" style={{ height: total * rowHeight }}>
        {rows}
      </div>
      {footer}
    </div>
  );
}
