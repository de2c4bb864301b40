// How much of each asked-for PDF page its pictures cover, with pdf.js in a worker thread that
// can be terminated (a hostile PDF cannot hang the server). Plain JS on purpose: a worker must
// load without a TypeScript loader.
import { parentPort, workerData } from 'node:worker_threads';

/** CTM x m, both as pdf.js's [a, b, c, d, e, f]. */
const times = (m, t) => [
  t[0] * m[0] + t[1] * m[2],
  t[0] * m[1] + t[1] * m[3],
  t[2] * m[0] + t[3] * m[2],
  t[2] * m[1] + t[3] * m[3],
  t[4] * m[0] + t[5] * m[2] + m[4],
  t[4] * m[1] + t[5] * m[3] + m[5],
];

try {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const { OPS } = pdfjs;
  // An image is drawn into the unit square of the current transform: its area is the
  // transform's determinant.
  const IMAGES = new Set(
    [OPS.paintImageXObject, OPS.paintInlineImageXObject, OPS.paintImageMaskXObject, OPS.paintSolidColorImageMask].filter((op) => op !== undefined),
  );
  const doc = await pdfjs.getDocument({
    data: new Uint8Array(workerData.bytes),
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    verbosity: 0,
  }).promise;
  const covered = [];
  for (const n of workerData.pages) {
    const page = await doc.getPage(n);
    const [x0, y0, x1, y1] = page.view;
    const pageArea = Math.abs((x1 - x0) * (y1 - y0));
    const { fnArray, argsArray } = await page.getOperatorList();
    let ctm = [1, 0, 0, 1, 0, 0];
    const stack = [];
    let area = 0;
    for (let i = 0; i < fnArray.length; i++) {
      const op = fnArray[i];
      const args = argsArray[i];
      if (op === OPS.save) stack.push(ctm);
      else if (op === OPS.restore) ctm = stack.pop() ?? ctm;
      else if (op === OPS.transform) ctm = times(ctm, args);
      else if (op === OPS.paintFormXObjectBegin) {
        stack.push(ctm);
        if (Array.isArray(args?.[0]) || ArrayBuffer.isView(args?.[0])) ctm = times(ctm, Array.from(args[0]));
      } else if (op === OPS.paintFormXObjectEnd) ctm = stack.pop() ?? ctm;
      else if (IMAGES.has(op)) area += Math.abs(ctm[0] * ctm[3] - ctm[1] * ctm[2]);
    }
    covered.push(pageArea > 0 ? Math.min(1, area / pageArea) : 0);
    page.cleanup();
    // Asked only whether any page is a picture: the first one answers it.
    if (workerData.firstOnly && covered[covered.length - 1] >= workerData.threshold) break;
  }
  await doc.destroy();
  parentPort.postMessage({ ok: true, covered });
} catch (err) {
  parentPort.postMessage({ ok: false, name: String(err?.name ?? 'Error') });
}
