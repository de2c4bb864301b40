/**
 * A search snippet with the server's `**` marks shown as highlights. The text is split, never
 * parsed as HTML: whatever the snippet holds is rendered as plain text nodes.
 */
export function Marked({ text, className }: { text: string; className?: string }) {
  const parts = text.split('**');
  return (
    <span className={className}>
      {parts.map((part, i) =>
        i % 2 === 1 && i < parts.length - 1 ? (
          <mark key={i} className="rounded-sm bg-amber-100 px-0.5 text-stone-900">
            {part}
          </mark>
        ) : (
          part
        ),
      )}
    </span>
  );
}
