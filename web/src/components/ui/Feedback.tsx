import { useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { focusPageHeading, focusStatic } from '../focus';
import { TOUCH_TARGET } from './Button';

/**
 * The mounted boxes showing each message. Sections that fail for one reason (the server down,
 * every record query answering 500) would otherwise each be an alert, and a screen reader says the
 * same sentence six times: only the first box is an alert, the others are shown, not announced.
 */
const shown = new Map<string, { el: HTMLElement; retry?: () => void; announced: boolean }[]>();

/** An alert a screen reader can hear: not behind an open modal dialog (aria-hidden or inert). */
const audible = (el: HTMLElement) => el.isConnected && !el.closest('[aria-hidden="true"],[inert]');

export function ErrorText({
  error,
  className = '',
  id,
  onRetry,
}: {
  error: unknown;
  className?: string;
  /** For the field the message is about (its aria-describedby). */
  id?: string;
  /** Offers "Try again", which retries every section showing the same message. */
  onRetry?: () => void;
}) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  // A new message is a new box: announced, and its place among the duplicates decided afresh.
  return <ErrorBox key={message} message={message} className={className} id={id} onRetry={onRetry} />;
}

function ErrorBox({ message, className, id, onRetry }: { message: string; className: string; id?: string; onRetry?: () => void }) {
  const box = useRef<HTMLDivElement>(null);
  const retry = useRef(onRetry);
  retry.current = onRetry;
  const [announced, setAnnounced] = useState(true);

  // Decided before the browser paints or builds its accessibility tree: a duplicate never shows as
  // an alert, not even for one frame.
  useLayoutEffect(() => {
    const el = box.current!;
    const others = shown.get(message) ?? [];
    const entry = { el, retry: () => retry.current?.(), announced: !others.some((o) => o.announced && audible(o.el)) };
    shown.set(message, [...others, entry]);
    setAnnounced(entry.announced);
    return () => {
      const left = (shown.get(message) ?? []).filter((o) => o !== entry);
      if (left.length) shown.set(message, left);
      else shown.delete(message);
      // Try again took the box away (the section reloads): focus stays in the section, not <body>.
      if (el.contains(document.activeElement)) {
        const section = el.parentElement?.closest<HTMLElement>('section, [role="region"], [role="dialog"], form');
        if (!focusStatic(section?.querySelector<HTMLElement>('h1, h2, h3, h4') ?? section)) focusPageHeading();
      }
    };
  }, [message]);

  const retryAll = () => {
    for (const o of [...(shown.get(message) ?? [])]) o.retry?.();
  };
  const role = announced ? 'alert' : undefined;
  const tone = `rounded-lg border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800 ${className}`;
  if (!onRetry)
    return (
      <div ref={box} role={role} id={id} className={tone}>
        {message}
      </div>
    );
  return (
    <div ref={box} className={`flex flex-wrap items-center justify-between gap-x-3 gap-y-1 ${tone}`}>
      <span role={role} id={id}>
        {message}
      </span>
      <button
        type="button"
        onClick={retryAll}
        className={`${TOUCH_TARGET} font-medium text-red-900 underline underline-offset-2 hover:text-red-950 focus-visible:outline-2 focus-visible:outline-teal-600`}
      >
        Try again
      </button>
    </div>
  );
}

export function Notice({
  tone = 'info',
  title,
  children,
  className = '',
}: {
  tone?: 'info' | 'warning' | 'success';
  title?: ReactNode;
  children: ReactNode;
  className?: string;
}) {
  const tones = {
    info: 'border-sky-200 bg-sky-50 text-sky-900',
    warning: 'border-amber-300 bg-amber-50 text-amber-950',
    success: 'border-emerald-200 bg-emerald-50 text-emerald-900',
  };
  return (
    // A success is news the person waits for ("Passphrase changed."): screen readers announce it.
    <div role={tone === 'success' ? 'status' : undefined} className={`rounded-lg border px-4 py-3 text-sm ${tones[tone]} ${className}`}>
      {title && <p className="font-semibold">{title}</p>}
      <div className={title ? 'mt-1' : ''}>{children}</div>
    </div>
  );
}

export function ProgressBar({ value, label, className = '' }: { value: number | null; label: string; className?: string }) {
  const pct = value === null ? null : Math.max(0, Math.min(100, Math.round(value * 100)));
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={pct ?? undefined}
      className={`h-2 w-full overflow-hidden rounded-full bg-stone-200 ${className}`}
    >
      <div
        className={`h-full rounded-full bg-teal-600 transition-[width] duration-200 ${pct === null ? 'w-1/3 animate-pulse' : ''}`}
        style={pct === null ? undefined : { width: `${pct}%` }}
      />
    </div>
  );
}

export function EmptyState({ title, children, icon }: { title: string; children?: ReactNode; icon?: ReactNode }) {
  return (
    <div className="flex flex-col items-center justify-center rounded-xl border border-dashed border-stone-300 bg-white px-6 py-12 text-center">
      {icon && <div className="mb-3 text-stone-400">{icon}</div>}
      <p className="text-base font-medium text-stone-800">{title}</p>
      {children && <div className="mt-1 max-w-md text-sm text-stone-500">{children}</div>}
    </div>
  );
}

export function Badge({
  children,
  tone = 'stone',
  truncate,
  title,
}: {
  children: ReactNode;
  tone?: 'stone' | 'teal' | 'amber' | 'sky' | 'violet';
  /** Cut long text with an ellipsis to fit the space it is given (the full text in `title`). */
  truncate?: boolean;
  title?: string;
}) {
  const tones = {
    stone: 'bg-stone-100 text-stone-700 ring-stone-200',
    teal: 'bg-teal-50 text-teal-800 ring-teal-200',
    amber: 'bg-amber-50 text-amber-800 ring-amber-200',
    sky: 'bg-sky-50 text-sky-800 ring-sky-200',
    violet: 'bg-violet-50 text-violet-800 ring-violet-200',
  };
  const shape = truncate ? 'inline-block max-w-full truncate align-middle' : 'inline-flex items-center';
  return (
    <span title={title} className={`${shape} rounded-md px-1.5 py-0.5 text-xs font-medium ring-1 ring-inset ${tones[tone]}`}>
      {children}
    </span>
  );
}

export function PageHeader({ title, description, actions }: { title: ReactNode; description?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="mb-6 flex flex-wrap items-end justify-between gap-4">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight text-stone-900">{title}</h1>
        {description && <p className="mt-1 text-sm text-stone-600">{description}</p>}
      </div>
      {actions && <div className="flex flex-wrap items-center gap-2">{actions}</div>}
    </div>
  );
}

export function Card({ children, className = '', title, description }: { children: ReactNode; className?: string; title?: string; description?: ReactNode }) {
  return (
    <section className={`rounded-xl border border-stone-200 bg-white p-5 shadow-sm ${className}`} aria-label={title}>
      {title && <h2 className="text-base font-semibold text-stone-900">{title}</h2>}
      {description && <p className="mt-1 text-sm text-stone-600">{description}</p>}
      <div className={title || description ? 'mt-4' : ''}>{children}</div>
    </section>
  );
}
