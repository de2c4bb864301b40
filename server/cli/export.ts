/**
 * `npm run export`: writes an age-encrypted export of one account, offline, from the same
 * DATA_DIR / DATABASE_URL the server uses (stop the server first when it uses the embedded
 * database: PGlite allows one process). It runs the real export route on a loopback port that
 * only this process knows, so the file is exactly what `POST /api/export` would send.
 *
 *   npm run export                      prompts for everything
 *   npm run export -- --out vault.age   --recipient age1...   (else an export passphrase is asked)
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { isAgeRecipient } from '../../crypto/index.js';
import { buildApp } from '../app.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { DataDirLockedError, lockDataDir, type DataDirLock } from '../db/data-dir-lock.js';
import { signInFailure } from './sign-in-failure.js';

// One interface for every question: piped answers (scripts, tests) arrive in one read.
let muted = false;
const rl = createInterface({
  input: process.stdin,
  output: new Writable({
    write(chunk, _enc, cb) {
      if (!muted) process.stderr.write(chunk);
      cb();
    },
  }),
  terminal: process.stdin.isTTY === true,
});
const lines: string[] = [];
const waiting: Array<(line: string) => void> = [];
rl.on('line', (line) => (waiting.length ? waiting.shift()!(line) : lines.push(line)));
rl.on('close', () => waiting.splice(0).forEach((w) => w('')));

/** Reads one line; with `hidden`, nothing typed is echoed (the prompt itself is). */
async function ask(question: string, hidden = false): Promise<string> {
  process.stderr.write(question);
  muted = hidden;
  const answer = lines.length ? lines.shift()! : await new Promise<string>((resolve) => waiting.push(resolve));
  muted = false;
  if (hidden) process.stderr.write('\n');
  return answer;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', short: 'o' },
      recipient: { type: 'string', short: 'r' },
      email: { type: 'string' },
      'include-trash': { type: 'boolean' },
    },
  });
  let config;
  try {
    // The export needs no AI, and must not start inference containers. The in-process app's
    // request logs are not for this interactive output (the server's LOG_LEVEL may be set here too).
    config = loadConfig({ ...process.env, SANDBOX_RUNTIME: 'none', LOG_LEVEL: 'error' });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  // Refused before any question when the server holds the embedded database (PGlite is one process).
  let lock: DataDirLock | undefined;
  try {
    lock = config.DATABASE_URL ? undefined : lockDataDir(config.dataDir, 'npm run export');
  } catch (err) {
    if (!(err instanceof DataDirLockedError)) throw err;
    process.stderr.write(`${err.withAdvice('stop it first, or export from the running app: Settings → Export your vault (POST /api/export).')}\n`);
    return 1;
  }
  try {
    return await exportAccount(config, values);
  } finally {
    lock?.release();
  }
}

async function exportAccount(config: Config, values: { out?: string; recipient?: string; email?: string; 'include-trash'?: boolean }): Promise<number> {
  const email = values.email ?? (await ask('Email: '));
  const passphrase = await ask('Vault passphrase: ', true);
  let target: { recipient: string } | { passphrase: string };
  const recipient = values.recipient ?? (await ask('Encrypt to an age recipient (age1...), or press Enter to use an export passphrase: ')).trim();
  if (recipient) {
    if (!isAgeRecipient(recipient)) {
      process.stderr.write('That is not an age X25519 recipient (age1...).\n');
      return 2;
    }
    target = { recipient };
  } else {
    const p1 = await ask('Export passphrase (at least 10 characters): ', true);
    const p2 = await ask('Repeat it: ', true);
    if (p1 !== p2 || p1.length < 10) {
      process.stderr.write(p1 !== p2 ? 'The passphrases differ.\n' : 'The export passphrase is too short.\n');
      return 2;
    }
    target = { passphrase: p1 };
  }
  const out = values.out ?? `context-vault-export-${new Date().toISOString().slice(0, 10)}.age`;

  const app = await buildApp({ config });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, passphrase }),
    });
    if (login.status !== 200) {
      process.stderr.write(`${await signInFailure(login)}\n`);
      return 1;
    }
    const cookie = login.headers
      .getSetCookie()
      .find((c) => /^(__Host-)?cv_session=/.test(c))!
      .split(';')[0]!;
    const res = await fetch(`${base}/api/export`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify({ ...target, includeTrash: values['include-trash'] === true }),
    });
    if (res.status !== 200 || !res.body) {
      process.stderr.write(`Export failed: ${res.status} ${await res.text()}\n`);
      return 1;
    }
    // Written beside the target and renamed at the end, so a failed export never looks complete.
    const partial = `${out}.partial`;
    try {
      await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(partial, { mode: 0o600, flags: 'wx' }));
      await rename(partial, out);
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
    await fetch(`${base}/api/auth/logout`, { method: 'POST', headers: { cookie } }).catch(() => {});
    process.stderr.write(`Wrote ${out}. Open it with: age -d ${recipient ? '-i <your identity file> ' : ''}${out} | tar -x\n`);
    return 0;
  } finally {
    rl.close();
    await app.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`Export failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
