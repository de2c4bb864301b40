// Reads Office, OpenDocument, e-mail and HTML files in a worker thread with a heap limit; the
// parent terminates it past its time limit. Plain JS on purpose: a worker must load without a
// TypeScript loader. Failures post a fixed code, never a parser's message (it can quote the file).
import { parentPort, workerData } from 'node:worker_threads';
import yauzl from 'yauzl';
import { SaxesParser } from 'saxes';

const { kind, maxChars, maxUnzipped, maxDepth, maxAttachments } = workerData;
const bytes = Buffer.from(workerData.bytes);

class Refused extends Error {
  constructor(code) {
    super(code);
    this.code = code;
  }
}

/** Entries whose names pass `want`, unpacked; the central directory's sizes are checked first. */
function readZip(buf, want) {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buf, { lazyEntries: true, validateEntrySizes: true, strictFileNames: false }, (err, zip) => {
      if (err) return reject(new Refused('damaged'));
      const out = new Map();
      let declared = 0;
      let read = 0;
      zip.on('error', () => reject(new Refused('damaged')));
      zip.on('end', () => resolve(out));
      zip.on('entry', (entry) => {
        declared += entry.uncompressedSize;
        // A zip bomb declares (or, with lying headers, unpacks to) far more than it is.
        if (declared > maxUnzipped) {
          zip.close();
          return reject(new Refused('unzips_too_large'));
        }
        if (!want(entry.fileName)) return zip.readEntry();
        zip.openReadStream(entry, (e, stream) => {
          if (e) return reject(new Refused('damaged'));
          const chunks = [];
          stream.on('data', (c) => {
            read += c.length;
            if (read > maxUnzipped) {
              stream.destroy();
              return reject(new Refused('unzips_too_large'));
            }
            chunks.push(c);
          });
          stream.on('error', () => reject(new Refused('damaged')));
          stream.on('end', () => {
            out.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

/** Walks XML with saxes (no DTDs, no entity expansion beyond the predefined ones). */
function walkXml(xml, handlers) {
  const parser = new SaxesParser({ xmlns: false });
  let depth = 0;
  parser.on('opentag', (t) => {
    if (++depth > maxDepth) throw new Refused('too_deep');
    handlers.open?.(t.name, t.attributes);
  });
  parser.on('closetag', (t) => {
    depth--;
    handlers.close?.(t.name);
  });
  parser.on('text', (t) => handlers.text?.(t));
  parser.on('error', () => {
    throw new Refused('damaged');
  });
  parser.write(xml.toString('utf8')).close();
}

async function docx() {
  await readZip(bytes, () => false);
  const mammoth = (await import('mammoth')).default;
  const r = await mammoth.extractRawText({ buffer: bytes });
  return { text: r.value };
}

async function xlsx() {
  await readZip(bytes, () => false);
  const ExcelJS = (await import('exceljs')).default;
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(bytes);
  const sheets = [];
  wb.eachSheet((ws) => {
    const lines = [`Sheet: ${ws.name}`];
    ws.eachRow({ includeEmpty: false }, (row) => {
      const cells = [];
      row.eachCell({ includeEmpty: true }, (cell) => cells.push(String(cell.text ?? '').replace(/[\t\n\f]+/g, ' ')));
      lines.push(cells.join('\t').trimEnd());
    });
    sheets.push(lines.join('\n'));
  });
  return { text: sheets.join('\n\n') };
}

async function ods() {
  const files = await readZip(bytes, (n) => n === 'content.xml');
  const xml = files.get('content.xml');
  if (!xml) throw new Refused('damaged');
  const sheets = [];
  let lines = null;
  let row = null;
  let cell = null;
  let repeat = 1;
  walkXml(xml, {
    open(name, a) {
      if (name === 'table:table') lines = [`Sheet: ${a['table:name'] ?? ''}`];
      else if (name === 'table:table-row') row = [];
      else if (name === 'table:table-cell' || name === 'table:covered-table-cell') {
        cell = '';
        // Repeated cells are how ODS stores empty runs: cap them so a row stays small.
        repeat = Math.min(Number(a['table:number-columns-repeated'] ?? 1) || 1, 64);
      } else if (name === 'text:p' && cell) cell += '\n';
    },
    text(t) {
      if (cell !== null) cell += t;
    },
    close(name) {
      if ((name === 'table:table-cell' || name === 'table:covered-table-cell') && row) {
        const v = (cell ?? '').replace(/[\t\n\f]+/g, ' ').trim();
        for (let i = 0; i < (v ? repeat : 1); i++) row.push(v);
        cell = null;
      } else if (name === 'table:table-row' && lines && row) {
        const line = row.join('\t').trimEnd();
        if (line) lines.push(line);
        row = null;
      } else if (name === 'table:table' && lines) {
        sheets.push(lines.join('\n'));
        lines = null;
      }
    },
  });
  return { text: sheets.join('\n\n') };
}

async function pptx() {
  const files = await readZip(bytes, (n) => /^ppt\/slides\/slide\d+\.xml$/.test(n));
  const slides = [...files.entries()].sort((a, b) => Number(a[0].match(/\d+/)[0]) - Number(b[0].match(/\d+/)[0]));
  // One slide per page (form feed), so a passage can name its slide.
  const pages = slides.map(([, xml]) => {
    let text = '';
    walkXml(xml, {
      text(t) {
        text += t;
      },
      close(name) {
        if (name === 'a:p') text += '\n';
      },
    });
    return text.replace(/\f/g, ' ').trim();
  });
  return { text: pages.join('\f'), pages: pages.length };
}

function checkHtmlDepth(html) {
  return import('htmlparser2').then(({ Parser }) => {
    let depth = 0;
    const parser = new Parser(
      {
        onopentag() {
          if (++depth > maxDepth) throw new Refused('too_deep');
        },
        onclosetag() {
          depth--;
        },
      },
      { decodeEntities: false },
    );
    parser.write(html);
    parser.end();
  });
}

/** Whether a table cell has a cell before it in its row (text and comments in between aside). */
function followsCell(elem) {
  for (let node = elem.prev; node; node = node.prev) if (node.type === 'tag') return node.name === 'td' || node.name === 'th';
  return false;
}

/**
 * A table cell tab-separated from the one before it, as spreadsheets are read: html-to-text's
 * default runs a row's cells together ("Test NameValue"), and its column layout pads every row
 * to the widest cell, which a hostile table turns into gigabytes.
 */
function tableCell(elem, walk, builder) {
  if (followsCell(elem)) builder.addLiteral('\t');
  walk(elem.children, builder);
}

/** html-to-text upper-cases headings by default: the stored text keeps the document's "Blood Pressure". */
const HEADINGS = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } }));

async function htmlToText(html) {
  await checkHtmlDepth(html);
  const { convert } = await import('html-to-text');
  // Text only: scripts, styles and images are skipped and nothing is ever fetched.
  return convert(html, {
    wordwrap: false,
    limits: { maxDepth, maxInputLength: maxChars * 4 },
    formatters: { tableCell },
    selectors: [
      { selector: 'script', format: 'skip' },
      { selector: 'style', format: 'skip' },
      { selector: 'img', format: 'skip' },
      { selector: 'a', options: { ignoreHref: true } },
      ...HEADINGS,
      { selector: 'table', format: 'block', options: { leadingLineBreaks: 2, trailingLineBreaks: 2 } },
      { selector: 'tr', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
      { selector: 'th', format: 'tableCell' },
      { selector: 'td', format: 'tableCell' },
    ],
  });
}

async function html() {
  return { text: await htmlToText(bytes.toString('utf8')) };
}

const address = (a) => (a ? a.text : '');

async function oneMail(raw, attachments) {
  const { simpleParser } = await import('mailparser');
  const m = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true, maxHtmlLengthToParse: maxChars * 4 });
  const head = [
    `From: ${address(m.from)}`,
    `To: ${Array.isArray(m.to) ? m.to.map(address).join(', ') : address(m.to)}`,
    m.date ? `Date: ${m.date.toISOString()}` : null,
    `Subject: ${m.subject ?? ''}`,
  ].filter(Boolean);
  const body = m.text ?? (typeof m.html === 'string' ? await htmlToText(m.html) : '');
  for (const a of m.attachments ?? []) {
    if (a.related) continue;
    if (attachments.length >= maxAttachments) break;
    attachments.push({ name: a.filename ?? 'attachment', contentType: a.contentType ?? 'application/octet-stream', bytes: a.content });
  }
  return { text: `${head.join('\n')}\n\n${body.trim()}`, subject: m.subject ?? '', date: m.date?.toISOString() };
}

async function eml() {
  const attachments = [];
  const r = await oneMail(bytes, attachments);
  return { text: r.text, attachments, mail: { subject: r.subject, date: r.date } };
}

async function mbox() {
  // mboxrd: messages start at lines "From " after a blank line (or at the start).
  const all = bytes.toString('latin1');
  const starts = [];
  const re = /(^|\n)From [^\n]*\n/g;
  for (let m; (m = re.exec(all));) starts.push({ at: m.index + m[1].length, body: m.index + m[0].length });
  if (!starts.length) throw new Refused('damaged');
  const attachments = [];
  const texts = [];
  let length = 0;
  for (let i = 0; i < starts.length && length < maxChars; i++) {
    const end = i + 1 < starts.length ? starts[i + 1].at : bytes.length;
    const raw = bytes.subarray(starts[i].body, end);
    const r = await oneMail(raw, attachments);
    texts.push(r.text);
    length += r.text.length;
  }
  return { text: texts.join('\n\n---\n\n'), attachments };
}

const readers = { docx, xlsx, ods, pptx, html, eml, mbox };

try {
  const reader = readers[kind];
  if (!reader) throw new Refused('unsupported');
  const r = await reader();
  const transfer = (r.attachments ?? []).map((a) => {
    const copy = new Uint8Array(a.bytes);
    a.bytes = copy;
    return copy.buffer;
  });
  parentPort.postMessage(
    {
      ok: true,
      ...r,
      text: String(r.text ?? '')
        .trim()
        .slice(0, maxChars),
    },
    transfer,
  );
} catch (err) {
  const code = err instanceof Refused ? err.code : err instanceof RangeError ? 'too_deep' : 'damaged';
  parentPort.postMessage({ ok: false, code });
}
