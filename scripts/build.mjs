// The production build: the web app (build-web.mjs) and the server tree compiled to plain
// JavaScript under dist/, with the same layout as the sources (dist/server/main.js, ...).
//
//   node scripts/build.mjs                 builds what is missing or older than its sources
//   node scripts/build.mjs --force         rebuilds everything (`npm run build`)
//   node scripts/build.mjs --out DIR       compiles the server tree into DIR instead of dist/
//
// Each .ts file is transpiled on its own with esbuild (no bundling: the layout, and every
// `new URL('./x', import.meta.url)`, stay as in the sources); types are checked by
// `npm run typecheck`, not here. Every other file beside the sources (worker entries such as
// *.mjs, JSON, assets) is copied as is, so new ones need no change here. Test doubles and helpers
// live outside these folders (test-support/), so the build never sees them; the tests, sample
// data and test vectors beside the sources are left out. In a tree without sources (the image)
// there is nothing to build.
import { execFileSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SOURCE_DIRS = ['contract', 'server', 'crypto', 'integrations', 'sandbox', 'migrations'];
const STAMP = '.build-stamp';

/** Test files and sample data: never compiled, never shipped. */
export function isTestPath(rel) {
  const parts = rel.split(/[\\/]/);
  const name = parts.at(-1);
  if (parts.slice(0, -1).some((p) => p === 'test' || p === 'fixtures' || p === 'test-vectors' || p === 'node_modules')) return true;
  return /\.test\.[cm]?[jt]sx?$/.test(name) || name.endsWith('.d.ts') || name.endsWith('.md');
}

function* walk(dir, rel = '') {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (isTestPath(e.isDirectory() ? `${r}/x` : r)) continue;
    if (e.isDirectory()) yield* walk(path.join(dir, e.name), r);
    else if (e.isFile()) yield r;
  }
}

function newestSource() {
  let max = 0;
  const see = (p) => (max = Math.max(max, statSync(p).mtimeMs));
  for (const d of SOURCE_DIRS) {
    see(path.join(root, d));
    for (const f of walk(path.join(root, d), d)) see(path.join(root, f));
  }
  for (const f of ['package-lock.json', 'tsconfig.json', 'scripts/build.mjs']) if (existsSync(path.join(root, f))) see(path.join(root, f));
  return max;
}

function fresh(out) {
  const stamp = path.join(out, STAMP);
  return existsSync(stamp) && existsSync(path.join(out, 'server', 'main.js')) && statSync(stamp).mtimeMs >= newestSource();
}

/** Compiles the server tree into `out` (emptied first, so deleted sources leave nothing behind). */
export async function buildServer(out) {
  const esbuild = await import('esbuild');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const ts = [];
  const scripts = [];
  for (const d of SOURCE_DIRS) {
    for (const f of walk(path.join(root, d), d)) {
      if (f.endsWith('.ts')) ts.push(f);
      else {
        if (/\.[cm]?js$/.test(f)) scripts.push(f);
        mkdirSync(path.dirname(path.join(out, f)), { recursive: true });
        copyFileSync(path.join(root, f), path.join(out, f));
      }
    }
  }
  const { compilerOptions } = JSON.parse(readFileSync(path.join(root, 'tsconfig.json'), 'utf8'));
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: ts,
    outdir: out,
    outbase: root,
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    tsconfigRaw: { compilerOptions: { target: compilerOptions.target, verbatimModuleSyntax: false, useDefineForClassFields: true } },
    logLevel: 'warning',
  });
  await esbuild.stop();
  checkImports(out, [...ts.map((f) => f.replace(/\.ts$/, '.js')), ...scripts]);
  writeFileSync(path.join(out, STAMP), `${new Date().toISOString()}\n`);
}

/**
 * Fails the build when compiled code imports a file that was left out (a test double, say) or a
 * package that is not a runtime dependency: the image has neither, so the server would crash there.
 */
function checkImports(out, files) {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const deps = new Set(Object.keys(pkg.dependencies ?? {}));
  const builtins = new Set(builtinModules);
  const problems = [];
  for (const f of files) {
    const code = readFileSync(path.join(out, f), 'utf8');
    // Static imports start a line (`import ... from "x";`, `import "x";`, `export ... from "x";`);
    // dynamic ones are `import("x")`. esbuild writes double quotes, hand-written workers single.
    const found = [
      ...[...code.matchAll(/^(?:import|export)\b[^;"']*?\bfrom\s*(["'])([^"']+)\1;?$/gm), ...code.matchAll(/^import\s*(["'])([^"']+)\1;?$/gm)].map((m) => [
        m[2],
        false,
      ]),
      ...[...code.matchAll(/\bimport\(\s*(["'])([^"']+)\1\s*\)/g)].map((m) => [m[2], true]),
    ];
    for (const [spec, dynamic] of found) {
      // A worker loader's fallback to TypeScript sources runs only under tsx.
      if (dynamic && /\.ts(\?|$)/.test(spec)) continue;
      if (spec.startsWith('.')) {
        const target = path.resolve(path.dirname(path.join(out, f)), spec.split('?')[0]);
        if (!existsSync(target)) problems.push(`${f} imports ${spec}, which the build leaves out`);
      } else if (!spec.startsWith('node:') && !builtins.has(spec) && !dynamic) {
        // A dynamic import of a dev-only package is allowed: it is reached only in development.
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (!deps.has(name)) problems.push(`${f} imports ${name}, which is not in package.json's dependencies`);
      }
    }
  }
  if (problems.length > 0) throw new Error(`The build would not run in production:\n  ${problems.join('\n  ')}`);
}

async function main() {
  const args = process.argv.slice(2);
  const force = args.includes('--force');
  const outArg = args.indexOf('--out');
  const out = outArg >= 0 ? path.resolve(args[outArg + 1]) : path.join(root, 'dist');
  if (outArg < 0) {
    execFileSync(process.execPath, [path.join(root, 'scripts', 'build-web.mjs'), ...(force ? ['--force'] : [])], { cwd: root, stdio: 'inherit' });
  }
  // The image ships dist/ without sources: nothing to build there.
  if (!existsSync(path.join(root, 'server', 'main.ts'))) return;
  if (!force && outArg < 0 && fresh(out)) return;
  process.stdout.write('Building the server...\n');
  await buildServer(out);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  });
}
