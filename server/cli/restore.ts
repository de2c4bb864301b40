/**
 * `npm run restore`: brings a backup made by `npm run backup` into an EMPTY install (a new
 * database and an empty DATA_DIR / bucket, as configured by the usual variables); refuses an
 * install that holds anything. Needs the operator's age identity (the file age-keygen wrote).
 *
 *   npm run restore -- --identity backup-key.txt /backups/context-vault-20260105T031500Z.tar.age
 *   npm run restore -- --identity backup-key.txt s3://my-backups/vault/context-vault-….tar.age
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { RestoreError, restoreBackup } from '../backup/restore.js';
import { openTarget, s3Settings, TargetError } from '../backup/target.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { DataDirLockedError, lockDataDir, type DataDirLock } from '../db/data-dir-lock.js';
import { areaSpec, openStore } from '../storage/index.js';

const USAGE = 'Usage: npm run restore -- --identity KEY_FILE BACKUP (a file or s3://bucket/key)';

function args(): { identity?: string; positionals: string[] } | undefined {
  try {
    const { values, positionals } = parseArgs({ options: { identity: { type: 'string' } }, allowPositionals: true });
    return { ...values, positionals };
  } catch (err) {
    process.stderr.write(`${(err as Error).message.split('\n')[0]}\n`);
    return undefined;
  }
}

async function main(): Promise<number> {
  const values = args();
  if (!values?.identity || values.positionals.length !== 1) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const positionals = values.positionals;
  const envKey = process.env.SERVER_KEY;
  let config: Config;
  try {
    // A placeholder key keeps loadConfig from generating server.key: the backup brings its own.
    config = loadConfig({ ...process.env, SERVER_KEY: envKey || Buffer.alloc(32).toString('base64') });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const keyText = await readFile(values.identity, 'utf8').catch((err: NodeJS.ErrnoException) => {
    process.stderr.write(`--identity: cannot read ${values.identity} (${err.code ?? err.name}).\n`);
    return undefined;
  });
  if (keyText === undefined) return 2;
  const identity = keyText
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.startsWith('AGE-SECRET-KEY-1'));
  if (!identity) {
    process.stderr.write(`${values.identity} holds no age identity (AGE-SECRET-KEY-1…).\n`);
    return 2;
  }
  const src = positionals[0]!;
  let source: () => Readable;
  let close = async () => {};
  const s3 = /^(s3:\/\/[^/]+(?:\/.*)?)\/([^/]+)$/.exec(src);
  if (s3) {
    const dir = await openTarget(s3[1]!, s3Settings(config));
    source = () => dir.createReadStream(s3[2]!);
    close = () => dir.close();
  } else {
    source = () => createReadStream(path.resolve(src));
  }
  // A server started on this DATA_DIR mid-restore would create a database of its own under it.
  let lock: DataDirLock | undefined;
  try {
    lock = config.DATABASE_URL ? undefined : lockDataDir(config.dataDir, 'npm run restore');
  } catch (err) {
    if (!(err instanceof DataDirLockedError)) throw err;
    process.stderr.write(`${err.withAdvice('stop it first: a backup is restored into an install that is not running.')}\n`);
    await close();
    return 1;
  }
  const files = await openStore(areaSpec(config.storage, 'files'));
  try {
    const r = await restoreBackup(source, identity, {
      database: config.DATABASE_URL ? { kind: 'postgres', url: config.DATABASE_URL } : { kind: 'pglite', dataDir: config.dataDir },
      files,
      dataDir: config.dataDir,
      ...(envKey ? { serverKeyFromEnv: config.serverKey } : {}),
    });
    process.stderr.write(`Restored the database and ${r.files} files (${(r.fileBytes / 1048576).toFixed(1)} MiB). Start the server as usual.\n`);
    return 0;
  } catch (err) {
    if (err instanceof RestoreError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await files.close();
    await close();
    lock?.release();
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    if (err instanceof TargetError) {
      process.stderr.write(`${err.message}\n${USAGE}\n`);
      process.exit(err.exitCode);
    }
    process.stderr.write(`Restore failed: ${err.message}\n`);
    process.exit(1);
  },
);
