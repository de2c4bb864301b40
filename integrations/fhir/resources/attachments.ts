/** Attachments (DocumentReference.content, DiagnosticReport.presentedForm, Binary, Media). */
import { cdaToText, decodeBase64, decodeText, htmlToText, type Json, str, table } from '../util.js';
import type { Ctx } from './context.js';

/** Characters of attachment text kept in `text`; the whole file is still kept as an attachment. */
const MAX_ATTACHMENT_TEXT = 200_000;

const EXT = table<string>({
  'application/pdf': '.pdf',
  'application/xml': '.xml',
  'text/xml': '.xml',
  'application/json': '.json',
  'application/fhir+json': '.json',
  'text/plain': '.txt',
  'text/html': '.html',
  'application/xhtml+xml': '.xhtml',
  'text/rtf': '.rtf',
  'application/rtf': '.rtf',
  'image/jpeg': '.jpg',
  'image/png': '.png',
  'image/gif': '.gif',
  'image/tiff': '.tiff',
  'application/dicom': '.dcm',
  'text/csv': '.csv',
  'text/markdown': '.md',
});

export interface AttachmentResult {
  /** One line per attachment for the record text. */
  lines: string[];
  /** Readable contents of text attachments. */
  texts: string[];
  /** Attachments only available by URL, for a sync that can fetch them later. */
  remote: Array<{ url: string; contentType?: string; title?: string }>;
}

function sizeText(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function safeFileName(s: string): string {
  return (
    s
      // eslint-disable-next-line no-control-regex -- control characters are what it removes
      .replace(/[\\/:*?"<>|\u0000-\u001f]+/g, '_')
      .replace(/^\.+/, '')
      .slice(0, 120) || 'attachment'
  );
}

/**
 * Decodes inline attachments into `ctx.attachments` and removes their base64 from the stored copy
 * (the bytes are kept once, as an encrypted file; `data.strippedAttachments` says where they came
 * from so an export can put them back). Text attachments also give readable text.
 */
export function takeAttachments(items: Array<{ att: Json; stored: Json | undefined; path: string }>, ctx: Ctx): AttachmentResult {
  const res: AttachmentResult = { lines: [], texts: [], remote: [] };
  const id = str(ctx.resource.id) ?? 'resource';
  items.forEach(({ att, stored, path }, i) => {
    const contentType = str(att.contentType) ?? 'application/octet-stream';
    const mime = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
    const title = str(att.title);
    const data = str(att.data);
    const url = str(att.url);
    if (data) {
      const bytes = decodeBase64(data);
      if (!bytes) {
        ctx.issues.push({ severity: 'error', kind: 'attachment', message: `${path}: attachment data is not valid base64; kept in the resource only` });
        res.lines.push(`${title ?? 'attachment'} (${contentType}, could not be decoded)`);
        return;
      }
      const ext = EXT[mime] ?? '';
      const base = title ? safeFileName(title) : `${ctx.rt}-${safeFileName(id)}-${i + 1}`;
      const name = ext && !base.toLowerCase().endsWith(ext) ? `${base}${ext}` : base;
      ctx.attachments.push({ name, contentType, bytes });
      if (stored) delete stored.data;
      ctx.stripped.push({ path, name });
      res.lines.push(`${name} (${mime || contentType}, ${sizeText(bytes.length)})`);
      const readable = readableText(bytes, mime, contentType);
      if (readable) res.texts.push(readable);
    } else if (url) {
      const entry: { url: string; contentType?: string; title?: string } = { url };
      if (str(att.contentType)) entry.contentType = contentType;
      if (title) entry.title = title;
      res.remote.push(entry);
      res.lines.push(`${title ? `${title}: ` : ''}${contentType} at ${url} (not downloaded)`);
    } else if (title) {
      res.lines.push(`${title} (${contentType}, no content)`);
    }
  });
  return res;
}

function readableText(bytes: Uint8Array, mime: string, contentType: string): string | undefined {
  let text: string | undefined;
  if (mime === 'text/html' || mime === 'application/xhtml+xml') text = htmlToText(decodeText(bytes, contentType));
  else if (mime === 'application/xml' || mime === 'text/xml' || mime === 'application/hl7-v3+xml') text = cdaToText(decodeText(bytes, contentType));
  else if (mime.startsWith('text/') && mime !== 'text/rtf') text = decodeText(bytes, contentType).trim();
  if (!text) return undefined;
  return text.length > MAX_ATTACHMENT_TEXT ? `${text.slice(0, MAX_ATTACHMENT_TEXT)}\n[… text truncated; the full file is attached]` : text;
}

export function withContents(paragraph: string, texts: string[]): string {
  return texts.length ? `${paragraph}\n\n${texts.join('\n\n')}` : paragraph;
}
