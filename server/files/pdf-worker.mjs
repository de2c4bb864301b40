// Runs pdf.js in a worker thread so a hostile or huge PDF can be stopped by terminating the
// worker. Plain JS on purpose: a worker must load without a TypeScript loader.
import { parentPort, workerData } from 'node:worker_threads';

const MAX_CHARS = workerData.maxChars;
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
    let line = '';
    if (length < MAX_CHARS) {
      const content = await page.getTextContent();
      for (const item of content.items) {
        if (typeof item.str === 'string') line += item.str + (item.hasEOL ? '\n' : ' ');
      }
    }
    // Form feeds separate pages: none may appear inside one.
    line = line.replace(/\f/g, ' ').trim();
    pages.push({ text: line, width: view.width, height: view.height });
    length += line.length;
    page.cleanup();
  }
  await doc.destroy();
  parentPort.postMessage({ ok: true, pages });
} catch (err) {
  parentPort.postMessage({ ok: false, name: String(err?.name ?? 'Error') });
}
