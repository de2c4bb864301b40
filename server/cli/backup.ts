/**
 * `npm run backup`: one encrypted backup of this install (database, encrypted files, server key),
 * age-encrypted to the operator's recipient, written to a directory or a bucket; older backups
 * beyond BACKUP_KEEP are deleted. With BACKUP_INTERVAL_HOURS (or --every) it keeps running and
 * backs up on that schedule. Uses the server's own configuration (DATABASE_URL or DATA_DIR,
 * STORAGE and S3_*). With the embedded database (PGlite is single-process) stop the server first:
 * while it holds the data directory, the backup is refused.
 *
 *   npm run backup -- --to /backups --recipient age1…      once
 *   npm run backup -- --to s3://my-backups/vault --every 24 --keep 14
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isAgeRecipient } from '../../crypto/index.js';
import { assertInstall, BackupSourceError, writeBackup, type BackupDatabase } from '../backup/backup.js';
import { sleep } from '../backup/schedule.js';
import { recordBackupSuccess } from '../backup/status.js';
import { applyRetention, backupName, openTarget, s3Settings, TargetError } from '../backup/target.js';
import { ConfigError, loadConfig, SERVER_ENV_SCHEMA, type Config } from '../config.js';
import { DataDirLockedError, lockDataDir } from '../db/data-dir-lock.js';
import { openDatabase } from '../db/index.js';
import { ServerSettingsRepository } from '../repositories/server-settings.repository.js';
import { areaSpec, openStore } from '../storage/index.js';

async function once(config: Config, to: string, recipient: string, keep: number): Promise<void> {
  // The embedded database is held for the whole run: a server started meanwhile is refused
  // instead of writing into the files being copied.
  const lock = config.DATABASE_URL ? undefined : lockDataDir(config.dataDir, 'npm run backup');
  try {
    await backUp(config, to, recipient, keep);
  } finally {
    lock?.release();
  }
}

const USAGE = 'Usage: npm run backup -- --to DIR|s3://bucket/prefix --recipient age1… [--every HOURS] [--keep N]';

const sourceDatabase = (config: Config): BackupDatabase =>
  config.DATABASE_URL ? { kind: 'postgres', url: config.DATABASE_URL } : { kind: 'pglite', dataDir: config.dataDir };

async function backUp(config: Config, to: string, recipient: string, keep: number): Promise<void> {
  // Checked on every run, before anything is written: an empty source must never reach retention.
  await assertInstall(sourceDatabase(config));
  const target = await openTarget(to, s3Settings(config));
  const files = await openStore(areaSpec(config.storage, 'files'));
  try {
    const name = backupName(new Date());
    const sink = target.createWriteStream(name);
    const summary = await writeBackup(
      { database: sourceDatabase(config), files, serverKey: config.serverKey, spoolDir: path.join(config.dataDir, 'tmp') },
      recipient,
      sink,
    );
    const completedAt = new Date();
    const removed = await applyRetention(target, keep);
    process.stderr.write(
      `Backup ${name}: ${summary.database} database, ${summary.files} files (${(summary.fileBytes / 1048576).toFixed(1)} MiB)${removed.length ? `; removed ${removed.length} older` : ''}.\n`,
    );
    // The backup is written whatever happens here; without the record the "backups stale" alert
    // fires later, so say so now.
    await recordSuccess(config, completedAt).catch((err: Error) =>
      process.stderr.write(`Backup written, but its time could not be recorded for /metrics: ${err.name} ${(err as { code?: string }).code ?? ''}\n`),
    );
  } finally {
    await files.close();
    await target.close();
  }
}

/** Tells the server, through the database it reads at scrape time, when the last backup completed. */
async function recordSuccess(config: Config, at: Date): Promise<void> {
  const { db } = await openDatabase({ url: config.DATABASE_URL, dataDir: config.dataDir });
  try {
    await recordBackupSuccess(new ServerSettingsRepository(db), at);
  } finally {
    await db.destroy();
  }
}

/**
 * A DATA_DIR with no install in it (a typo, `./data` under the wrong working directory) is
 * refused before loadConfig, which would otherwise create the directory and a new server.key,
 * and before the database is opened, which would create an empty one.
 */
function missingInstall(env: NodeJS.ProcessEnv): string | undefined {
  const dataDir = path.resolve(SERVER_ENV_SCHEMA.shape.DATA_DIR.parse(env.DATA_DIR || undefined));
  const advice = 'Point DATA_DIR (and DATABASE_URL) at the install to back up; a relative DATA_DIR is read from the working directory.';
  if (!env.DATABASE_URL && !existsSync(path.join(dataDir, 'pg', 'PG_VERSION')))
    return `Refusing to back up: DATA_DIR ${dataDir} holds no Context Vault database. ${advice}`;
  if (!env.SERVER_KEY && !existsSync(path.join(dataDir, 'server.key')))
    return `Refusing to back up: DATA_DIR ${dataDir} holds no server.key (and SERVER_KEY is not set). ${advice}`;
  return undefined;
}

function options(): { to?: string; recipient?: string; every?: string; keep?: string } | undefined {
  try {
    return parseArgs({ options: { to: { type: 'string' }, recipient: { type: 'string' }, every: { type: 'string' }, keep: { type: 'string' } } }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message.split('\n')[0]}\n${USAGE}\n`);
    return undefined;
  }
}

async function main(): Promise<number> {
  const values = options();
  if (!values) return 2;
  const missing = missingInstall(process.env);
  if (missing) {
    process.stderr.write(`${missing}\n`);
    return 1;
  }
  let config: Config;
  try {
    config = loadConfig({
      ...process.env,
      ...(values.to !== undefined ? { BACKUP_TARGET: values.to } : {}),
      ...(values.recipient !== undefined ? { BACKUP_AGE_RECIPIENT: values.recipient } : {}),
      ...(values.every !== undefined ? { BACKUP_INTERVAL_HOURS: values.every } : {}),
      ...(values.keep !== undefined ? { BACKUP_KEEP: values.keep } : {}),
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const to = config.BACKUP_TARGET;
  const recipient = config.BACKUP_AGE_RECIPIENT;
  if (!to || !recipient || !isAgeRecipient(recipient)) {
    process.stderr.write(`Set BACKUP_TARGET (or --to) and BACKUP_AGE_RECIPIENT (or --recipient, an age1… public key from age-keygen).\n${USAGE}\n`);
    return 2;
  }
  // A target that can never work is refused once, up front, not retried on every slot.
  await (await openTarget(to, s3Settings(config))).close();
  if (config.BACKUP_INTERVAL_HOURS === 0) {
    await once(config, to, recipient, config.BACKUP_KEEP);
    return 0;
  }
  const stopping = new AbortController();
  const stop = () => stopping.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  while (!stopping.signal.aborted) {
    // A failed run is reported and retried at the next slot; the schedule keeps going.
    await once(config, to, recipient, config.BACKUP_KEEP).catch((err: Error) => process.stderr.write(`Backup failed: ${message(err)}\n`));
    // The wait itself keeps the process alive; a stop ends it at once.
    await sleep(config.BACKUP_INTERVAL_HOURS * 3_600_000, stopping.signal);
  }
  return 0;
}

/** A refusal on the embedded database says what holds it and what to do. */
function message(err: Error): string {
  if (err instanceof DataDirLockedError)
    return err.withAdvice('stop it first: the embedded database allows one process, so it is backed up while the server is stopped.');
  return err.message;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    if (err instanceof TargetError) {
      process.stderr.write(`${err.message}\n${USAGE}\n`);
      process.exit(err.exitCode);
    }
    process.stderr.write(err instanceof BackupSourceError ? `${err.message}\n` : `Backup failed: ${message(err)}\n`);
    process.exit(1);
  },
);
