/**
 * Bundles a worker thread's TypeScript entry, with its dependencies, into one CommonJS script
 * for `new Worker(code, { eval: true })`. A worker started from TypeScript needs the tsx loader,
 * which runs its own hooks thread and transpiles every module again in each worker (measured:
 * ~25 MB more resident for the Apple Health worker, and a slower start). The bundle is built
 * from the current sources at first use (~50 ms with esbuild, which tsx already depends on), so
 * it can never be stale, and it is never written to disk; when bundling fails, callers fall
 * back to the loader.
 */
import { fileURLToPath } from 'node:url';

/** The bundle's code, or undefined when esbuild could not build it. */
export async function bundleWorker(entry: URL): Promise<string | undefined> {
  try {
    return await bundle(entry);
  } catch {
    return undefined;
  }
}

async function bundle(entry: URL): Promise<string> {
  const esbuild = await import('esbuild');
  try {
    const out = await esbuild.build({
      entryPoints: [fileURLToPath(entry)],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      write: false,
      logLevel: 'silent',
    });
    return out.outputFiles[0]!.text;
  } finally {
    // esbuild keeps a service process for later builds; there are none.
    await esbuild.stop();
  }
}
