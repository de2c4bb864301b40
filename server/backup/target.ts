import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';
import { openStore, type ObjectStore } from '../storage/index.js';

/** `context-vault-20260105T031500Z.tar.age`: sorts by time, and retention only ever sees these. */
const NAME = /^context-vault-\d{8}T\d{6}Z\.tar\.age$/;

/**
 * A target the command cannot use, said in one line: `exitCode` 2 for a value that can never
 * work (a malformed bucket name), 1 for a place that cannot be written now.
 */
export class TargetError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
  }
}

export function backupName(at: Date): string {
  return `context-vault-${at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')}.tar.age`;
}

/**
 * Where backups go: a directory, or `s3://bucket/prefix` reached with the S3_* endpoint and
 * credentials (the bucket may differ from the file store's, and should).
 */
export async function openTarget(
  target: string,
  s3: { endpoint?: string; region: string; accessKeyId?: string; secretAccessKey?: string; forcePathStyle: boolean },
): Promise<ObjectStore> {
  // Anything spelled as s3:// is meant as a bucket: never a local directory named "s3:".
  if (/^s3:\/\//i.test(target)) {
    const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(target);
    if (!m) throw new TargetError('BACKUP_TARGET: not a valid S3 bucket name (3 to 63 lower-case letters, digits, "." and "-")', 2);
    return openBucket(m[1]!, m[2] ?? '', s3);
  }
  return openDirectory(path.resolve(target));
}

async function openDirectory(root: string): Promise<ObjectStore> {
  // Made and checked now, so that an unusable place is one clear line before any work.
  try {
    await mkdir(root, { recursive: true, mode: 0o700 });
    const store = await openStore({ kind: 'local', root });
    await store.check(0);
    return store;
  } catch (err) {
    throw new TargetError(`BACKUP_TARGET: cannot create or write the directory ${root} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 1);
  }
}

function openBucket(bucket: string, rawPrefix: string, s3: Parameters<typeof openTarget>[1]): Promise<ObjectStore> {
  const prefix = rawPrefix.replace(/^\/+|\/+$/g, '');
  if (prefix && (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(prefix) || prefix.split('/').some((p) => p === '.' || p === '..')))
    throw new TargetError('BACKUP_TARGET: the prefix after the bucket may hold only letters, digits, ".", "_", "-" and "/"', 2);
  return openStore({ kind: 's3', bucket, prefix: prefix ? `${prefix}/` : '', ...s3 });
}

/** Backups in the target, oldest first. */
export async function listBackups(target: ObjectStore): Promise<string[]> {
  const names: string[] = [];
  for await (const o of target.list('')) if (NAME.test(o.key)) names.push(o.key);
  return names.sort();
}

/** Deletes all but the newest `keep` backups; returns what it deleted. */
export async function applyRetention(target: ObjectStore, keep: number): Promise<string[]> {
  const all = await listBackups(target);
  const old = all.slice(0, Math.max(0, all.length - keep));
  for (const name of old) await target.delete(name);
  return old;
}

/** The S3_* endpoint and credentials, for a backup bucket (which may differ from the file store's). */
export function s3Settings(config: Config) {
  return {
    region: config.S3_REGION,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
    ...(config.S3_ENDPOINT ? { endpoint: config.S3_ENDPOINT } : {}),
    ...(config.S3_ACCESS_KEY_ID ? { accessKeyId: config.S3_ACCESS_KEY_ID } : {}),
    ...(config.S3_SECRET_ACCESS_KEY ? { secretAccessKey: config.S3_SECRET_ACCESS_KEY } : {}),
  };
}
