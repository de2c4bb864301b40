/**
 * A patient summary as a PDF a doctor can read in a minute: demographics, then the chosen
 * sections as short tables, A4, aiming at one or two pages. Written in memory with pdf-lib (no
 * temporary file ever holds the plaintext), in DejaVu Sans embedded as a subset of the glyphs
 * used, so names in Latin, Greek, Cyrillic, Hebrew or Arabic script print as written.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import fontkit from '@pdf-lib/fontkit';
import { PDFDocument, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import type { ClinicalEntry } from '../services/clinical.service.js';
import { IPS_SECTIONS } from './ips.js';
import type { SectionKey, SummaryModel } from './model.js';

const A4: [number, number] = [595.28, 841.89];
const MARGIN = 48;
const INK = rgb(0.11, 0.1, 0.09);
const MUTED = rgb(0.42, 0.4, 0.38);
const ACCENT = rgb(0.06, 0.46, 0.43);
const FLAG = rgb(0.7, 0.1, 0.1);

/** Rows per section, so a long history still prints on a page or two; the rest is counted. */
const MAX_ROWS = 14;

/** The two faces, read once per process: their bytes for pdf-lib and their character maps. */
interface Faces {
  regular: Uint8Array;
  bold: Uint8Array;
  /** Whether both faces draw a code point: anything else prints as "?" rather than as an empty box. */
  covers: (codePoint: number) => boolean;
}

let faces: Promise<Faces> | undefined;

function loadFaces(): Promise<Faces> {
  faces ??= (async (): Promise<Faces> => {
    const dir = createRequire(import.meta.url)
      .resolve('dejavu-fonts-ttf/package.json')
      .replace(/package\.json$/, 'ttf/');
    const [regular, bold] = await Promise.all([readFile(`${dir}DejaVuSans.ttf`), readFile(`${dir}DejaVuSans-Bold.ttf`)]);
    const maps = [fontkit.create(regular), fontkit.create(bold)];
    return { regular, bold, covers: (c) => maps.every((f) => f.hasGlyphForCodePoint(c)) };
  })().catch((err: unknown) => {
    faces = undefined;
    throw err;
  });
  return faces;
}

// Line breaks and tabs become spaces (a cell wraps on its own); control characters, and format
// characters the font has no glyph for, are dropped; other characters the font lacks (CJK, for
// one) fall back to their accent-free letters where it has those, or "?", so an unusual name
// never breaks the document.
function printable(s: string, covers: Faces['covers']): string {
  let out = '';
  for (const ch of s.normalize('NFC')) {
    const c = ch.codePointAt(0)!;
    if (/\s/.test(ch)) out += ' ';
    else if (/\p{Cc}/u.test(ch)) continue;
    else if (covers(c)) out += ch;
    else if (/\p{C}/u.test(ch)) continue;
    else {
      const base = ch.normalize('NFD').replace(/\p{M}/gu, '');
      out += base && [...base].every((b) => covers(b.codePointAt(0)!)) ? base : '?';
    }
  }
  return out;
}

class Writer {
  page!: PDFPage;
  y = 0;
  pages = 0;
  constructor(
    readonly doc: PDFDocument,
    readonly font: PDFFont,
    readonly bold: PDFFont,
    readonly covers: Faces['covers'],
  ) {
    this.newPage();
  }

  newPage(): void {
    this.page = this.doc.addPage(A4);
    this.pages++;
    this.y = A4[1] - MARGIN;
  }

  ensure(h: number): void {
    if (this.y - h < MARGIN + 20) this.newPage();
  }

  text(s: string, opts: { size?: number; bold?: boolean; color?: ReturnType<typeof rgb>; x?: number; width?: number } = {}): void {
    const size = opts.size ?? 9.5;
    const font = opts.bold ? this.bold : this.font;
    const x = opts.x ?? MARGIN;
    const width = opts.width ?? A4[0] - MARGIN - x;
    for (const line of wrap(printable(s, this.covers), font, size, width)) {
      this.ensure(size + 3);
      this.page.drawText(line, { x, y: this.y - size, size, font, color: opts.color ?? INK });
      this.y -= size + 3;
    }
  }

  /** One row of columns (x offsets), wrapped within each column; the row height is its tallest cell. */
  row(cells: Array<{ text: string; x: number; width: number; bold?: boolean; color?: ReturnType<typeof rgb> }>, size = 9): void {
    const wrapped = cells.map((c) => wrap(printable(c.text, this.covers), c.bold ? this.bold : this.font, size, c.width));
    const h = Math.max(...wrapped.map((w) => w.length)) * (size + 2.5) + 3;
    this.ensure(h);
    wrapped.forEach((lines, i) => {
      const c = cells[i]!;
      lines.forEach((line, k) => {
        this.page.drawText(line, { x: MARGIN + c.x, y: this.y - size - k * (size + 2.5), size, font: c.bold ? this.bold : this.font, color: c.color ?? INK });
      });
    });
    this.y -= h;
  }

  heading(s: string): void {
    this.ensure(40);
    this.y -= 8;
    this.text(s, { size: 12, bold: true, color: ACCENT });
    this.page.drawLine({ start: { x: MARGIN, y: this.y + 1 }, end: { x: A4[0] - MARGIN, y: this.y + 1 }, thickness: 0.6, color: ACCENT });
    this.y -= 5;
  }
}

function wrap(s: string, font: PDFFont, size: number, width: number): string[] {
  const words = s.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    const next = line ? `${line} ${w}` : w;
    if (font.widthOfTextAtSize(next, size) <= width || !line) line = next;
    else {
      lines.push(line);
      line = w;
    }
  }
  if (line) lines.push(line);
  return lines.length ? lines : [''];
}

const day = (iso: string | null | undefined) => (iso ? iso.slice(0, 10) : '');
const num = (v: number) => String(Math.round(v * 10) / 10);

export async function renderSummaryPdf(model: SummaryModel): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle('Patient summary');
  doc.setProducer('Context Vault');
  doc.setCreator('Context Vault');
  // The document's own dates are the only metadata; no name goes into the info dictionary.
  doc.setCreationDate(new Date(model.generatedAt));
  const f = await loadFaces();
  doc.registerFontkit(fontkit);
  const w = new Writer(doc, await doc.embedFont(f.regular, { subset: true }), await doc.embedFont(f.bold, { subset: true }), f.covers);

  w.text('Patient summary', { size: 18, bold: true });
  const p = model.patient ?? {};
  const who = [p.name ?? 'Name not recorded', p.birthDate ? `born ${p.birthDate}` : undefined, p.gender].filter(Boolean).join(', ');
  w.text(who, { size: 11 });
  const period = model.from || model.to ? `Period: ${model.from ?? 'start'} to ${model.to ?? 'today'}. ` : '';
  w.text(`${period}Made ${day(model.generatedAt)} from the patient's own records (Context Vault); sources are the providers and devices named in each entry.`, {
    size: 8.5,
    color: MUTED,
  });

  for (const key of model.sections) {
    w.heading(IPS_SECTIONS[key].title);
    if (key === 'results') results(w, model);
    else if (key === 'vitals') vitals(w, model);
    else clinical(w, key, (model as unknown as Record<string, ClinicalEntry[] | undefined>)[key] ?? []);
  }
  return doc.save();
}

const GROUP_LABEL: Record<string, string> = {
  current: 'Current',
  past: 'Past',
  active: 'Active',
  resolved: 'Resolved',
  given: 'Given',
  'not-given': 'Not given',
  done: 'Done',
  'not-done': 'Not done',
};

function clinical(w: Writer, key: SectionKey, entries: ClinicalEntry[]): void {
  if (!entries.length) {
    w.text('None recorded.', { color: MUTED });
    return;
  }
  for (const e of entries.slice(0, MAX_ROWS)) {
    const when = e.end ? `${e.day ?? day(e.date)} – ${day(e.end)}` : (e.day ?? day(e.date));
    const extra = [
      e.detail,
      e.criticality ? `criticality ${e.criticality}` : undefined,
      e.reactions?.length ? `reactions: ${e.reactions.join(', ')}` : undefined,
    ]
      .filter(Boolean)
      .join('; ');
    w.row([
      { text: GROUP_LABEL[e.group] ?? e.group, x: 0, width: 58, color: MUTED },
      { text: e.name, x: 60, width: 230, bold: key === 'allergies' && e.criticality === 'high' },
      { text: extra, x: 295, width: 115 },
      { text: when, x: 415, width: 84, color: MUTED },
    ]);
  }
  if (entries.length > MAX_ROWS) w.text(`… and ${entries.length - MAX_ROWS} more in the vault.`, { size: 8.5, color: MUTED });
}

function results(w: Writer, model: SummaryModel): void {
  const list = model.results ?? [];
  if (!list.length) {
    w.text('No results in this period.', { color: MUTED });
    return;
  }
  w.row(
    [
      { text: 'Test', x: 0, width: 200, color: MUTED },
      { text: 'Result', x: 205, width: 100, color: MUTED },
      { text: 'Reference range', x: 310, width: 100, color: MUTED },
      { text: 'Date', x: 415, width: 84, color: MUTED },
    ],
    8,
  );
  for (const r of list.slice(0, MAX_ROWS * 2)) {
    const range = r.low !== undefined || r.high !== undefined ? `${r.low ?? ''}–${r.high ?? ''} ${r.unit}` : '';
    const out = r.flag === 'high' || r.flag === 'low' || r.flag === 'abnormal';
    w.row([
      { text: r.name, x: 0, width: 200 },
      { text: `${r.comparator ?? ''}${r.value} ${r.unit}${out ? ` (${r.flag})` : ''}`, x: 205, width: 100, bold: out, color: out ? FLAG : INK },
      { text: range, x: 310, width: 100, color: MUTED },
      { text: r.day ?? day(r.date), x: 415, width: 84, color: MUTED },
    ]);
  }
}

function vitals(w: Writer, model: SummaryModel): void {
  const list = model.vitals ?? [];
  if (!list.length) {
    // Without a start, vital signs cover one year (model.ts): say so, or older readings look lost.
    w.text(
      model.from
        ? 'No vital signs in this period.'
        : `No vital signs in the year up to ${model.to ?? day(model.generatedAt)}; choose a start date to include older ones.`,
      { color: MUTED },
    );
    return;
  }
  for (const v of list) {
    w.row([
      { text: `${v.title}${v.label !== v.title ? ` (${v.label})` : ''}`, x: 0, width: 160 },
      { text: `latest ${num(v.latest.value)} ${unitLabel(v.unit, v.loinc)} (${v.latest.date})`, x: 165, width: 170 },
      { text: `mean ${num(v.mean)}, range ${num(v.min)}–${num(v.max)} over ${v.days} days`, x: 340, width: 160, color: MUTED },
    ]);
  }
}

/** LOINC heart rate and resting heart rate: a rate per minute read as beats. */
const HEART_RATES = new Set(['8867-4', '40443-4']);

function unitLabel(u: string, loinc?: string): string {
  if ((u === '/min' || u === 'count/min') && loinc && HEART_RATES.has(loinc)) return 'bpm';
  return ({ 'mm[Hg]': 'mmHg', 'count/min': '/min', '%': '%', '[lb_av]': 'lb', Cel: '°C', '[degF]': '°F', '[in_i]': 'in' } as Record<string, string>)[u] ?? u;
}
