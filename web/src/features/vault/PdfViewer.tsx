import { useEffect, useRef, useState } from 'react';
import { api } from '../../api/client';
import { Button } from '../../components/ui/Button';
import { ErrorText } from '../../components/ui/Feedback';

type PdfJs = typeof import('pdfjs-dist');
type PDFDocumentProxy = Awaited<ReturnType<PdfJs['getDocument']>['promise']>;

let pdfjsPromise: Promise<PdfJs> | null = null;
function loadPdfJs(): Promise<PdfJs> {
  pdfjsPromise ??= Promise.all([import('pdfjs-dist'), import('pdfjs-dist/build/pdf.worker.min.mjs?url')]).then(([lib, worker]) => {
    lib.GlobalWorkerOptions.workerSrc = (worker as { default: string }).default;
    return lib;
  });
  return pdfjsPromise;
}

/** The page a link asked for (`#page=N`, as a chat citation links it), else 1. */
function pageFromHash(): number {
  const m = /(?:^#|&)page=(\d{1,5})\b/.exec(window.location.hash);
  return m ? Math.max(1, Number(m[1])) : 1;
}

/** pdf.js's own words for it ("No password given") tell a reader nothing, and no password can be typed here. */
const PASSWORD_PROTECTED = 'This PDF is password-protected; download it to open it with its password.';
const needsPassword = (e: unknown) => (e as { name?: unknown } | null)?.name === 'PasswordException';

/** Renders a PDF from the vault in the page with pdf.js (loaded only when a PDF is opened). */
export default function PdfViewer({ url, title }: { url: string; title: string }) {
  const [doc, setDoc] = useState<PDFDocumentProxy | null>(null);
  const [page, setPage] = useState(pageFromHash);
  const [scale, setScale] = useState(1.25);
  const [error, setError] = useState<unknown>(null);
  const [locked, setLocked] = useState(false);
  const canvasRef = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    let cancelled = false;
    let loaded: PDFDocumentProxy | null = null;
    (async () => {
      try {
        const [lib, { blob }] = await Promise.all([loadPdfJs(), api.blob(url)]);
        const data = new Uint8Array(await blob.arrayBuffer());
        // No eval (strict CSP) and no remote fonts or CMaps: everything stays on this server.
        loaded = await lib.getDocument({ data, isEvalSupported: false, disableFontFace: false, useSystemFonts: true }).promise;
        if (cancelled) return void loaded.destroy();
        const pages = loaded.numPages;
        setPage((p) => Math.min(p, pages));
        setDoc(loaded);
      } catch (e) {
        if (cancelled) return;
        if (needsPassword(e)) setLocked(true);
        else setError(e instanceof Error ? e : new Error('This PDF could not be displayed.'));
      }
    })();
    return () => {
      cancelled = true;
      void loaded?.destroy();
    };
  }, [url]);

  useEffect(() => {
    if (!doc) return;
    let task: { cancel: () => void; promise: Promise<void> } | null = null;
    let cancelled = false;
    (async () => {
      const p = await doc.getPage(page);
      if (cancelled) return;
      const canvas = canvasRef.current;
      if (!canvas) return;
      const ratio = window.devicePixelRatio || 1;
      const viewport = p.getViewport({ scale: scale * ratio });
      canvas.width = viewport.width;
      canvas.height = viewport.height;
      canvas.style.width = `${viewport.width / ratio}px`;
      task = p.render({ canvas, viewport });
      await task.promise.catch(() => undefined);
    })();
    return () => {
      cancelled = true;
      task?.cancel();
    };
  }, [doc, page, scale]);

  if (locked) return <p className="my-6 text-sm text-stone-600">{PASSWORD_PROTECTED}</p>;
  if (error) return <ErrorText error={error} className="my-6" />;

  return (
    <section aria-label={`PDF: ${title}`} className="mt-6 rounded-xl border border-stone-200 bg-stone-100 shadow-sm">
      <div className="flex flex-wrap items-center gap-2 border-b border-stone-200 bg-white px-4 py-2 text-sm">
        <Button size="sm" variant="secondary" disabled={!doc || page <= 1} onClick={() => setPage((p) => p - 1)}>
          Previous page
        </Button>
        <span aria-live="polite" className="tabular-nums text-stone-700">
          {doc ? `Page ${page} of ${doc.numPages}` : 'Loading PDF…'}
        </span>
        <Button size="sm" variant="secondary" disabled={!doc || page >= doc.numPages} onClick={() => setPage((p) => p + 1)}>
          Next page
        </Button>
        <span className="ml-auto flex items-center gap-1">
          <Button size="sm" variant="ghost" onClick={() => setScale((s) => Math.max(0.5, s - 0.25))} aria-label="Zoom out">
            −
          </Button>
          <span className="w-12 text-center tabular-nums text-stone-600">{Math.round(scale * 100)}%</span>
          <Button size="sm" variant="ghost" onClick={() => setScale((s) => Math.min(3, s + 0.25))} aria-label="Zoom in">
            +
          </Button>
        </span>
      </div>
      <div className="pdf-page flex justify-center overflow-auto p-4">
        <canvas ref={canvasRef} className="bg-white shadow" role="img" aria-label={`Page ${page} of ${title}`} data-testid="pdf-canvas" />
      </div>
    </section>
  );
}
