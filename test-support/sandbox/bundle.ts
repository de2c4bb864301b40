import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Bundles the Ollama stand-in into one dependency-free `.mjs` (cached in the temp dir by a hash
 * of its sources) so a child process or a container starts it with a bare `node`, without tsx
 * (tsx costs ~0.3 s per start and is not in the test image). Uses esbuild, which tsx brings.
 */
export async function bundleFakeOllama(): Promise<string> {
  const sources = ['fake-ollama.ts', 'fake-ollama-main.ts'].map((f) => readFileSync(join(here, f)));
  const hash = createHash('sha256');
  for (const s of sources) hash.update(s);
  const digest = hash.digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'context-vault-fake-ollama');
  const out = join(dir, `fake-ollama-${digest}.mjs`);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const esbuild = await import('esbuild');
  const tmp = `${out}.${process.pid}.tmp`;
  await esbuild.build({
    entryPoints: [join(here, 'fake-ollama-main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: tmp,
    logLevel: 'silent',
  });
  // Parallel test files may bundle at once; rename is atomic, so readers never see half a file.
  renameSync(tmp, out);
  return out;
}
