/**
 * The production build (scripts/build.mjs, `npm run build`) and the image made from it: what the
 * Dockerfile's final stage copies holds no tests, test doubles or TypeScript sources, and the
 * compiled server runs on its own (no tsx, no sources beside it) through a real sign-up, a note,
 * a PDF whose text comes from the compiled tree's extraction worker and an Apple Health import
 * parsed by its compiled worker.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgDatabase, dbTargets } from '../../test-support/server/harness.js';
import { makePdf } from '../../test-support/server/pdf.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

/** A layout like the image's /app: dist/, node_modules and package.json side by side. */
let app: string;

beforeAll(async () => {
  app = mkdtempSync(path.join(tmpdir(), 'cv-build-'));
  await run(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs'), '--out', path.join(app, 'dist')], { cwd: ROOT });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(app, 'node_modules'));
  copyFileSync(path.join(ROOT, 'package.json'), path.join(app, 'package.json'));
}, 120_000);

afterAll(() => {
  if (app) rmSync(app, { recursive: true, force: true });
});

function files(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...files(dir, r));
    else out.push(r);
  }
  return out;
}

/** Why a shipped path must not be in the image, or undefined when it may be. */
function unshippable(file: string): string | undefined {
  const parts = file.split('/');
  const name = parts.at(-1)!;
  if (/\.[cm]?tsx?$/.test(name)) return 'TypeScript source';
  if (parts.some((p) => ['test', 'tests', 'testing', '__tests__', 'test-support', 'fixtures', 'test-vectors', 'e2e', 'bench'].includes(p)))
    return 'test folder';
  if (/\.(test|spec)\.|^test-helpers\./.test(name)) return 'test file';
  return undefined;
}

interface Copy {
  from: string | undefined;
  sources: string[];
}

/** The COPY instructions of the Dockerfile's last stage. */
function finalCopies(dockerfile: string): Copy[] {
  const lines = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const last = lines.map((l) => /^FROM\s/i.test(l)).lastIndexOf(true);
  return lines
    .slice(last + 1)
    .filter((l) => /^COPY\s/i.test(l))
    .map((l) => {
      const words = l.split(/\s+/).slice(1);
      const flags = words.filter((w) => w.startsWith('--'));
      const args = words.filter((w) => !w.startsWith('--'));
      return { from: flags.find((f) => f.startsWith('--from='))?.slice('--from='.length), sources: args.slice(0, -1) };
    });
}

/** The files one COPY source puts in the image, as paths relative to where they come from. */
function copied(from: string | undefined, source: string): string[] {
  if (from === 'deps') {
    // Third-party packages, installed with `npm ci --omit=dev` in the deps stage.
    expect(source).toBe('/app/node_modules');
    return [];
  }
  let dir: string;
  if (from === undefined) dir = path.join(ROOT, source);
  else {
    expect(from).toBe('build');
    const rel = path.posix.relative('/app', source);
    // The build stage is the repository (COPY . .) after `npm run build`: dist/ is its output
    // (built into a temporary folder here), web/dist vite's.
    dir = rel === 'dist' || rel.startsWith('dist/') ? path.join(app, rel) : path.join(ROOT, rel);
  }
  if (!existsSync(dir)) {
    // web/dist when the web app was not built in this checkout: vite writes only JS, CSS, HTML and assets.
    expect(source).toBe('/app/web/dist');
    return [];
  }
  const base = from === undefined ? source : path.posix.relative('/app', source);
  return statSync(dir).isDirectory() ? files(dir).map((f) => `${base}/${f}`) : [base];
}

describe('production build', () => {
  it('the image copies only the build, runtime packages and package metadata: no tests, doubles or TypeScript', () => {
    const copies = finalCopies(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
    expect(copies.length).toBeGreaterThan(0);
    const shipped = copies.flatMap((c) => c.sources.flatMap((s) => copied(c.from, s)));
    const bad = shipped.map((f) => [f, unshippable(f)]).filter(([, why]) => why);
    expect(bad).toEqual([]);
    // What it does ship: the compiled server, its worker entries, and the migrations.
    expect(shipped).toContain('dist/server/main.js');
    expect(shipped).toContain('dist/server/jobs/apple-health-worker.js');
    expect(shipped).toContain('dist/server/files/pdf-worker.mjs');
    expect(shipped).toContain('dist/migrations/index.js');
    expect(shipped).toContain('package.json');
  });

  it('leaves every test, test double and test helper out of dist/', () => {
    const built = files(path.join(app, 'dist'));
    expect(built.filter((f) => unshippable(f))).toEqual([]);
    // The doubles exist, in test-support/, outside the folders the build compiles.
    expect(existsSync(path.join(ROOT, 'test-support', 'sandbox', 'fake-ollama.ts'))).toBe(true);
    expect(built.some((f) => f.startsWith('test-support/'))).toBe(false);
  });

  it('keeps test doubles and helpers out of the shipped folders: they live in test-support/', () => {
    const misplaced = ['server', 'crypto', 'integrations', 'sandbox', 'migrations'].flatMap((d) =>
      files(ROOT, d).filter((f) => {
        const parts = f.split('/');
        return parts.some((p) => ['testing', '__tests__', 'test-support'].includes(p)) || /^test-(helpers|utils)\./.test(parts.at(-1)!);
      }),
    );
    expect(misplaced).toEqual([]);
  });

  it.each(dbTargets())(
    'runs the compiled server without tsx: health, sign-up, a note, a PDF and an Apple Health import in compiled workers (%s)',
    async (target) => {
      const port = await freePort();
      const dataDir = mkdtempSync(path.join(tmpdir(), 'cv-build-data-'));
      const pg = target === 'postgres' ? await createPgDatabase() : undefined;
      const logs: string[] = [];
      // No --import tsx, no sources next to it: only dist/, node_modules and package.json.
      const proc = spawn(process.execPath, ['--max-semi-space-size=4', 'dist/server/main.js'], {
        cwd: app,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          PORT: String(port),
          HOST: '127.0.0.1',
          DATA_DIR: dataDir,
          LOG_LEVEL: 'warn',
          SANDBOX_RUNTIME: 'none',
          ...(pg ? { DATABASE_URL: pg.url } : {}),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      proc.stdout!.on('data', (d: Buffer) => logs.push(d.toString()));
      proc.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
      const url = `http://127.0.0.1:${port}`;
      try {
        await waitHealthy(proc, url, logs);

        const reg = await fetch(`${url}/api/auth/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'build@example.com', passphrase: 'a long enough passphrase' }),
        });
        expect(reg.status).toBe(201);
        const cookie = reg.headers
          .getSetCookie()
          .find((c) => /^(__Host-)?cv_session=/.test(c))!
          .split(';')[0]!;
        const headers = { cookie };

        const created = await fetch(`${url}/api/items`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({ title: 'Built note', text: 'from the compiled server' }),
        });
        expect(created.status).toBe(201);
        const note = (await created.json()) as { id: string };
        const read = await fetch(`${url}/api/items/${note.id}`, { headers });
        expect(read.status).toBe(200);
        expect(await read.json()).toMatchObject({ id: note.id, title: 'Built note', text: 'from the compiled server' });

        const form = new FormData();
        form.append('file', new Blob([new Uint8Array(makePdf('compiled worker extracts this'))], { type: 'application/pdf' }), 'built.pdf');
        const upload = await fetch(`${url}/api/files`, { method: 'POST', headers, body: form });
        expect(upload.status).toBe(201);
        expect(((await upload.json()) as { text: string }).text).toContain('compiled worker extracts this');

        // The Apple Health import runs in its worker thread: from dist/ its compiled entry, not a bundle.
        const xml = readFileSync(path.join(ROOT, 'integrations/apple-health/fixtures/opendroid-hk_sampleexport.xml'));
        const apple = new FormData();
        apple.append('file', new Blob([new Uint8Array(xml)], { type: 'text/xml' }), 'export.xml');
        const started = await fetch(`${url}/api/import/apple-health`, { method: 'POST', headers, body: apple });
        expect(started.status).toBe(202);
        const { jobId } = (await started.json()) as { jobId: string };
        let job: { status: string; error?: string };
        do {
          await new Promise((r) => setTimeout(r, 200));
          job = (await (await fetch(`${url}/api/jobs/${jobId}`, { headers })).json()) as { status: string; error?: string };
        } while (job.status !== 'done' && job.status !== 'failed');
        expect(job).toMatchObject({ status: 'done' });
      } finally {
        await stop(proc);
        await pg?.dispose();
        rmSync(dataDir, { recursive: true, force: true });
      }
      expect(logs.join('')).not.toMatch(/tsx|ERR_UNKNOWN_FILE_EXTENSION/);
    },
    240_000,
  );
});

async function waitHealthy(proc: ChildProcess, url: string, logs: string[]): Promise<void> {
  // Generous: the first start creates the embedded database, which is slow on a loaded machine.
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`the compiled server exited (${proc.exitCode}):\n${logs.join('')}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`the compiled server did not become healthy:\n${logs.join('')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await exited;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
