import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The real tesseract behind a gate: the n-th page it is given waits until `open(n)`, so a test
 * decides which page a restart or a delete interrupts. Pass `path` as `OCR_TESSERACT_PATH`.
 */
export async function gatedTesseract() {
  const dir = await mkdtemp(path.join(tmpdir(), 'cv-ocr-gate-'));
  const calls = path.join(dir, 'calls');
  await writeFile(calls, '');
  const bin = path.join(dir, 'tesseract');
  await writeFile(
    bin,
    `#!/bin/sh\nn=$(( $(wc -l < '${calls}') + 1 ))\necho page >> '${calls}'\nwhile [ ! -e '${dir}/go-'$n ]; do sleep 0.05; done\nexec /usr/bin/tesseract "$@"\n`,
  );
  await chmod(bin, 0o755);
  const given = async () => (await readFile(calls, 'utf8')).split('\n').filter(Boolean).length;
  return {
    path: bin,
    /** Lets the given pages (counted from 1 over the gate's life) through. */
    open: (...pages: number[]) => Promise.all(pages.map((n) => writeFile(path.join(dir, `go-${n}`), ''))),
    /** How many pages tesseract has been given so far. */
    given,
    /** Waits until tesseract has been given `n` pages in all (the last of them waits at its gate). */
    waitGiven: async (n: number) => {
      while ((await given()) < n) await sleep(25);
    },
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
