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
  const parts = [];
  let length = 0;
  for (let i = 1; i <= doc.numPages && length < MAX_CHARS; i++) {
    const page = await doc.getPage(i);
    const content = await page.getTextContent();
    let line = '';
    for (const item of content.items) {
      if (typeof item.str === 'string') line += item.str + (item.hasEOL ? '\n' : ' ');
    }
    parts.push(line.trim());
    length += line.length;
    page.cleanup();
  }
  await doc.destroy();
  parentPort.postMessage({ ok: true, text: parts.join('\f').slice(0, MAX_CHARS), pages: doc.numPages });
} catch (err) {
  parentPort.postMessage({ ok: false, name: String(err?.name ?? 'Error') });
}
