// Runs pdf.js in a worker thread so a hostile or huge PDF can be stopped by terminating the
// worker. Plain JS on purpose: a worker must load without a TypeScript loader.
import { parentPort, workerData } from 'node:worker_threads';

const MAX_CHARS = workerData.maxChars;
// eslint-disable-next-line no-control-regex -- NULs are what it removes
const NUL = /\u0000/g;

/**
 * A page's text items joined as pdf.js's own text layer and find bar join them: pdf.js puts the
 * spaces in itself (the PDF's space glyphs, and " " items for gaps between words) and marks line
 * ends with hasEOL. It also starts a new item wherever the font changes, mid-word included
 * ("<b>Cholest</b>erol"), and at marked content (a browser wraps each shaped Arabic glyph in
 * one), so a separator of ours would split those words.
 */
function pageText(items) {
  let text = '';
  let line = [];
  for (const item of items) {
    if (typeof item.str !== 'string') continue;
    line.push(item);
    if (item.hasEOL) {
      text += readingOrder(line) + '\n';
      line = [];
    }
  }
  return text + readingOrder(line);
}

/**
 * One line's items in reading order. pdf.js puts right-to-left text in reading order within an
 * item only; a right-to-left run split over items left to right on the page (a glyph or a word
 * an item) comes in visual order, which is reversed here: "םולש" back to "שלום".
 */
function readingOrder(items) {
  const out = [];
  // Right-to-left items and the spaces between them.
  let run = [];
  const flush = () => {
    let end = run.length;
    while (end && run[end - 1].dir !== 'rtl') end--;
    const rtl = run.slice(0, end).filter((i) => i.dir === 'rtl');
    const leftToRight = rtl.length > 1 && rtl.every((item, k) => k === 0 || item.transform[4] >= rtl[k - 1].transform[4]);
    // Spaces after the run's last right-to-left item stay after it.
    out.push(...(leftToRight ? run.slice(0, end).reverse() : run.slice(0, end)), ...run.slice(end));
    run = [];
  };
  for (const item of items) {
    if (item.dir === 'rtl' || (run.length && !item.str.trim())) run.push(item);
    else {
      flush();
      out.push(item);
    }
  }
  flush();
  return out.map((i) => i.str).join('');
}

try {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const doc = await pdfjs.getDocument({
    data: new Uint8Array(workerData.bytes),
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    verbosity: 0,
  }).promise;
  // One entry per page, so pages stay apart (`\f`) and pages with no text layer can be OCR'd.
  const pages = [];
  let length = 0;
  for (let i = 1; i <= doc.numPages; i++) {
    const page = await doc.getPage(i);
    const view = page.getViewport({ scale: 1 });
    if (length >= MAX_CHARS) {
      // Past the cap the page is not read, and says so: an empty text would pass for a scan.
      pages.push({ text: '', pastCap: true, width: view.width, height: view.height });
      page.cleanup();
      continue;
    }
    // Form feeds separate pages: none may appear inside one. Glyphs that map to U+0000 say
    // nothing: a page of only those has no usable text layer and is left for OCR.
    const line = pageText((await page.getTextContent()).items)
      .replace(/\f/g, ' ')
      .replace(NUL, '')
      .trim();
    pages.push({ text: line, width: view.width, height: view.height });
    length += line.length;
    page.cleanup();
  }
  await doc.destroy();
  parentPort.postMessage({ ok: true, pages });
} catch (err) {
  parentPort.postMessage({ ok: false, name: String(err?.name ?? 'Error') });
}
