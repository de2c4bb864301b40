import { Marked, type Token, type Tokens } from 'marked';
import { createContext, memo, useContext, type ReactNode } from 'react';
import type { Source } from '../../api/types';
import { Link } from '../../app/router';

// GFM for tables and lists, but every token is turned into React elements below; no HTML string
// is ever produced or injected, so raw HTML, scripts, images and links cannot reach the DOM.
const lexer = new Marked({ gfm: true, breaks: false });

/** The sources of the answer being rendered: `[n]` markers become links to them. */
const SourcesContext = createContext<readonly Source[]>([]);

/** Text with `[n]` markers turned into links to source n's item (page and passage in the title). */
function Cited({ text }: { text: string }) {
  const sources = useContext(SourcesContext);
  if (!sources.length || !/\[\d+\]/.test(text)) return <>{text}</>;
  const parts = text.split(/(\[\d+\])/);
  return (
    <>
      {parts.map((part, i) => {
        const m = /^\[(\d+)\]$/.exec(part);
        const s = m ? sources.find((x) => x.n === Number(m[1])) : undefined;
        if (!s || !s.itemId) return part;
        const where = [s.title || 'Untitled', s.page !== undefined ? `page ${s.page}` : null].filter(Boolean).join(', ');
        return (
          <Link
            key={i}
            to={`/vault/${s.itemId}${s.page !== undefined ? `#page=${s.page}` : ''}`}
            data-testid="citation"
            aria-label={`[${s.n}] ${where}`}
            title={s.passage ? `${where}: “${s.passage}”` : where}
            className="rounded px-0.5 font-medium text-teal-800 underline decoration-teal-600/50 underline-offset-2 hover:bg-teal-50 focus-visible:outline-2 focus-visible:outline-teal-600"
          >
            {part}
          </Link>
        );
      })}
    </>
  );
}

function inline(tokens: Token[] | undefined, key: string): ReactNode[] {
  if (!tokens) return [];
  return tokens.map((t, i) => renderInline(t, `${key}.${i}`));
}

function renderInline(t: Token, key: string): ReactNode {
  switch (t.type) {
    case 'strong':
      return <strong key={key}>{inline((t as Tokens.Strong).tokens, key)}</strong>;
    case 'em':
      return <em key={key}>{inline((t as Tokens.Em).tokens, key)}</em>;
    case 'del':
      return <del key={key}>{inline((t as Tokens.Del).tokens, key)}</del>;
    case 'codespan':
      return (
        <code key={key} className="rounded bg-stone-100 px-1 py-0.5 font-mono text-[0.85em]">
          {decodeEntities((t as Tokens.Codespan).text)}
        </code>
      );
    case 'br':
      return <br key={key} />;
    case 'link': {
      // Links (including auto-linked URLs) become their plain text: an answer built from a
      // hostile document must not be able to lead the user, or the browser, anywhere.
      const l = t as Tokens.Link;
      return <span key={key}>{l.tokens?.length ? inline(l.tokens, key) : l.text}</span>;
    }
    case 'image': {
      // Never fetch a remote image: it would leak the conversation through its URL.
      const alt = (t as Tokens.Image).text;
      return alt ? (
        <span key={key} className="text-stone-500 italic">
          [image: {alt}]
        </span>
      ) : null;
    }
    case 'html':
    case 'tag':
      return <span key={key}>{(t as Tokens.HTML).raw}</span>;
    case 'escape':
      return <span key={key}>{decodeEntities((t as Tokens.Escape).text)}</span>;
    case 'text': {
      const tt = t as Tokens.Text;
      if (tt.tokens && tt.tokens.length) return <span key={key}>{inline(tt.tokens, key)}</span>;
      return (
        <span key={key}>
          <Cited text={decodeEntities(tt.text)} />
        </span>
      );
    }
    default:
      return <span key={key}>{'raw' in t ? String(t.raw) : ''}</span>;
  }
}

// marked escapes &, <, >, " and ' in text tokens for its own HTML output; React escapes again,
// so undo marked's escaping to show the characters the model actually wrote.
function decodeEntities(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e] ?? _);
}

function block(t: Token, key: string): ReactNode {
  switch (t.type) {
    case 'space':
    case 'def':
      return null;
    case 'paragraph':
      return (
        <p key={key} className="my-2 first:mt-0 last:mb-0">
          {inline((t as Tokens.Paragraph).tokens, key)}
        </p>
      );
    case 'heading': {
      const h = t as Tokens.Heading;
      const cls = h.depth <= 2 ? 'mt-4 mb-2 text-base font-semibold' : 'mt-3 mb-1 text-sm font-semibold';
      const Tag = `h${Math.min(6, h.depth + 2)}` as 'h3';
      return (
        <Tag key={key} className={cls}>
          {inline(h.tokens, key)}
        </Tag>
      );
    }
    case 'code':
      return (
        <pre key={key} className="my-2 overflow-x-auto rounded-lg bg-stone-900 p-3 font-mono text-xs text-stone-100">
          <code>{(t as Tokens.Code).text}</code>
        </pre>
      );
    case 'blockquote':
      return (
        <blockquote key={key} className="my-2 border-l-4 border-stone-300 pl-3 text-stone-600">
          {(t as Tokens.Blockquote).tokens.map((c, i) => block(c, `${key}.${i}`))}
        </blockquote>
      );
    case 'hr':
      return <hr key={key} className="my-3 border-stone-200" />;
    case 'list': {
      const l = t as Tokens.List;
      const items = l.items.map((it, i) => (
        <li key={`${key}.${i}`} className="my-0.5">
          {it.task && <span aria-label={it.checked ? 'done' : 'not done'}>{it.checked ? '☑ ' : '☐ '}</span>}
          {it.tokens.map((c, j) => (c.type === 'text' ? renderInline(c, `${key}.${i}.${j}`) : block(c, `${key}.${i}.${j}`)))}
        </li>
      ));
      return l.ordered ? (
        <ol key={key} start={typeof l.start === 'number' ? l.start : undefined} className="my-2 list-decimal pl-6">
          {items}
        </ol>
      ) : (
        <ul key={key} className="my-2 list-disc pl-6">
          {items}
        </ul>
      );
    }
    case 'table': {
      const tb = t as Tokens.Table;
      return (
        <div key={key} className="my-2 overflow-x-auto">
          <table className="min-w-full border-collapse text-sm">
            <thead>
              <tr>
                {tb.header.map((c, i) => (
                  <th key={i} className="border-b border-stone-300 px-2 py-1 text-left font-semibold">
                    {inline(c.tokens, `${key}.h${i}`)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {tb.rows.map((r, ri) => (
                <tr key={ri}>
                  {r.map((c, ci) => (
                    <td key={ci} className="border-b border-stone-100 px-2 py-1">
                      {inline(c.tokens, `${key}.${ri}.${ci}`)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      );
    }
    case 'html':
      return (
        <p key={key} className="my-2 whitespace-pre-wrap">
          {(t as Tokens.HTML).raw}
        </p>
      );
    case 'text': {
      const tt = t as Tokens.Text;
      return <p key={key}>{tt.tokens ? inline(tt.tokens, key) : decodeEntities(tt.text)}</p>;
    }
    default:
      return (
        <p key={key} className="my-2 whitespace-pre-wrap">
          {'raw' in t ? String(t.raw) : ''}
        </p>
      );
  }
}

/**
 * Renders model output as safe Markdown: no raw HTML, no images, no links (shown as text). The
 * only links are the `[n]` citation markers, which point inside the app at the answer's sources.
 */
export const Markdown = memo(function Markdown({ text, sources = [] }: { text: string; sources?: readonly Source[] }) {
  let tokens: Token[];
  try {
    tokens = lexer.lexer(text);
  } catch {
    return <p className="whitespace-pre-wrap">{text}</p>;
  }
  return (
    <SourcesContext.Provider value={sources}>
      <div className="cv-markdown break-words text-[0.95rem] leading-relaxed">{tokens.map((t, i) => block(t, String(i)))}</div>
    </SourcesContext.Provider>
  );
});
