/** A chat as returned by ChatService.get, the parts the Markdown export needs. */
export interface ExportableChat {
  title: string;
  messages: Array<{
    role: 'user' | 'assistant';
    text: string;
    createdAt: string;
    stopped?: boolean;
    cutOff?: boolean;
    sources: Array<{ n: number; title: string; kind: string; occurredAt: string | null; itemId: string | null; page?: number; passage?: string }>;
    context?: { model: string; numCtx: number };
    alternatives?: unknown[];
  }>;
}

/**
 * Escapes characters that would turn a stored title into Markdown markup or HTML, and keeps it
 * on one line: newlines and other control characters (an escape sequence in a title stored
 * before titles were cleaned) become spaces.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\`*_{}[\]<>()#+!|~]/g, (c) => `\\${c}`)
    .replace(/\r?\n/g, ' ')
    .replace(/\p{Cc}/gu, ' ');
}

const day = (iso: string) => iso.slice(0, 10);

/** The `n` of every `[n]` marker in an answer (the app links the same markers to their sources). */
function citedNumbers(text: string): Set<number> {
  return new Set(Array.from(text.matchAll(/\[(\d+)\]/g), (m) => Number(m[1])));
}

/**
 * A chat as a Markdown document: the title, each question and answer in order with its time,
 * and under every answer the sources its [n] markers refer to (title, kind, date, page), under
 * their numbers in the text; the other sources the model was given are left out, as the answer
 * does not rest on them.
 * Answers are model-written Markdown and are kept as they are; everything the user or a
 * document named (titles) is escaped.
 */
export function chatToMarkdown(chat: ExportableChat, exportedAt = new Date()): string {
  const out: string[] = [`# ${escapeMarkdown(chat.title)}`, '', `_Exported from Context Vault on ${day(exportedAt.toISOString())}._`, ''];
  for (const m of chat.messages) {
    if (m.role === 'user') {
      out.push(`## You (${m.createdAt.replace('T', ' ').slice(0, 16)} UTC)`, '', ...m.text.split(/\r?\n/).map((l) => `> ${l}`), '');
      continue;
    }
    const by = m.context ? ` (${escapeMarkdown(m.context.model)})` : '';
    out.push(`## Answer${by}`, '', m.text.trim() || '_(no answer)_', '');
    if (m.stopped) out.push('_Stopped before the end._', '');
    else if (m.cutOff) out.push('_Cut off at the length limit._', '');
    const cited = citedNumbers(m.text);
    const sources = m.sources.filter((s) => cited.has(s.n));
    if (sources.length) {
      out.push('**Sources**', '');
      for (const s of sources) {
        const where = [s.kind, s.occurredAt ? day(s.occurredAt) : null, s.page !== undefined ? `page ${s.page}` : null].filter(Boolean).join(', ');
        out.push(`- [${s.n}] ${escapeMarkdown(s.title)}${where ? ` (${escapeMarkdown(where)})` : ''}`);
        if (s.passage) out.push(`  > ${escapeMarkdown(s.passage)}`);
      }
      out.push('');
    }
    if (m.alternatives?.length) out.push(`_${m.alternatives.length} earlier answer${m.alternatives.length === 1 ? '' : 's'} to this question not shown._`, '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * The download's name in the title's own script (`chat-我的血压是多少.md`), for `filename*`: only
 * letters, marks and digits are kept, every other run (spaces, punctuation, path separators,
 * control, format and bidi characters) becomes one `-`, so nothing in it can name a folder,
 * reorder the name on screen or hide part of it. Cut at 60 characters without splitting one.
 */
export function exportFilenameUtf8(title: string): string {
  const slug = title
    .normalize('NFC')
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}]+/gu, '-')
    .replace(/^[-\p{M}]+|-+$/gu, '');
  const cut = Array.from(graphemes.segment(slug), (g) => g.segment)
    .slice(0, 60)
    .join('')
    .replace(/-+$/, '');
  return `chat-${cut || 'export'}.md`;
}

/**
 * RFC 6266 / 5987: the ASCII name for clients that read only `filename`, and the name in the
 * title's own script as `filename*` (percent-encoded UTF-8), which browsers prefer.
 */
export function exportDisposition(title: string): string {
  // encodeURIComponent leaves ' ( ) * as they are; RFC 5987's attr-char has none of them.
  const exact = encodeURIComponent(exportFilenameUtf8(title)).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${exportFilename(title)}"; filename*=UTF-8''${exact}`;
}

/** An ASCII file name for the download: `chat-<title words>.md`. */
export function exportFilename(title: string): string {
  const slug = title
    .normalize('NFKD')
    .replace(/[^\x20-\x7e]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return `chat-${slug || 'export'}.md`;
}
