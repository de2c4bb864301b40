import path from 'node:path';
import type { Config } from '../config.js';
import { openStore, type ObjectStore } from '../storage/index.js';

/** `context-vault-20260105T031500Z.tar.age`: sorts by time, and retention only ever sees these. */
const NAME = /^context-vault-\d{8}T\d{6}Z\.tar\.age$/;

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
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(target);
  if (!m) return openStore({ kind: 'local', root: path.resolve(target) });
  const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix && (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(prefix) || prefix.split('/').some((p) => p === '.' || p === '..')))
    throw new Error('BACKUP_TARGET: the prefix after the bucket may hold only letters, digits, ".", "_", "-" and "/"');
  return openStore({ kind: 's3', bucket: m[1]!, prefix: prefix ? `${prefix}/` : '', ...s3 });
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
