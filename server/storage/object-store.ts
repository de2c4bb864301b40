import type { Readable, Writable } from 'node:stream';

/**
 * Where encrypted blobs live: the local disk (the default) or an S3 bucket. Everything written
 * here is already ciphertext, under names the server made from random ids; a store never sees a
 * key or a plaintext byte. Keys are `/`-separated relative names such as `files/<user>/<file>`.
 */
export interface ObjectStore {
  readonly kind: 'local' | 's3';
  /**
   * A stream that writes one object; its 'finish' (so `pipeline` resolving) means the object is
   * stored in full. A stream destroyed with an error leaves no object behind.
   */
  createWriteStream(key: string): Writable;
  /** The whole object; a missing object errors the stream. */
  createReadStream(key: string): Readable;
  /** Bytes `start` to `end` (exclusive). */
  readRange(key: string, start: number, end: number): Promise<Buffer>;
  /** The object's size, or null when there is none. */
  size(key: string): Promise<number | null>;
  delete(key: string): Promise<void>;
  /** Deletes every object whose key starts with `prefix` (which must end in `/`). */
  deletePrefix(prefix: string): Promise<void>;
  /** Every object under `prefix`, with its size and when it was last written. */
  list(prefix: string): AsyncIterable<{ key: string; size: number; modified: Date }>;
  /**
   * Readiness: resolves when the store answers and can be written (the disk: its root is
   * writable; S3: the bucket answers a HEAD within `timeoutMs`), else rejects with why.
   */
  check(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The `code` of a storage error meaning the store did not answer (refused or dropped connection,
 * unknown host, timeout, a 5xx): nothing is wrong with the request, so it may work again later.
 */
export const STORAGE_UNAVAILABLE = 'STORAGE_UNAVAILABLE';

export const isStorageUnavailable = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === STORAGE_UNAVAILABLE;

/**
 * A write the disk refused for want of room (ENOSPC) or of the account's quota (EDQUOT): the
 * operator must free space; the request itself was fine.
 */
export const isStorageFull = (err: unknown): boolean => {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
};

/**
 * How long a readiness check waits for the bucket (`/health/storage`, an export before its
 * headers): a probe must answer well within its own timeout.
 */
export const STORAGE_CHECK_TIMEOUT_MS = 2000;

/** What a worker thread needs to open the same store (plain data: it crosses postMessage). */
export type StorageSpec =
  | { kind: 'local'; root: string }
  | {
      kind: 's3';
      endpoint?: string;
      bucket: string;
      region: string;
      accessKeyId?: string;
      secretAccessKey?: string;
      forcePathStyle: boolean;
      /** Prepended to every key, so that one bucket can hold several installs or a backup. */
      prefix: string;
    };

const SAFE_KEY = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** Refuses keys that could climb out of the store (`..`) or that are not the server's own names. */
export function checkKey(key: string): string {
  if (!SAFE_KEY.test(key) || key.split('/').some((p) => p === '.' || p === '..')) throw new Error('invalid object key');
  return key;
}

export function checkPrefix(prefix: string): string {
  if (!prefix.endsWith('/')) throw new Error('invalid object prefix');
  checkKey(prefix.slice(0, -1));
  return prefix;
}
