import path from 'node:path';
import { LocalObjectStore } from './local-store.js';
import type { ObjectStore, StorageSpec } from './object-store.js';

export type { ObjectStore, StorageSpec } from './object-store.js';
export { STORAGE_CHECK_TIMEOUT_MS } from './object-store.js';
export { LocalObjectStore } from './local-store.js';

/**
 * Opens the store a spec names. The AWS SDK is loaded only for `s3`, so that an install on the
 * local disk (and every import worker thread there) never loads it.
 */
export async function openStore(spec: StorageSpec): Promise<ObjectStore> {
  if (spec.kind === 'local') return new LocalObjectStore(spec.root);
  const { S3ObjectStore } = await import('./s3-store.js');
  return new S3ObjectStore(spec);
}

/** The configured store narrowed to one area: a folder on disk, or a key prefix in the bucket. */
export function areaSpec(spec: StorageSpec, area: string): StorageSpec {
  return spec.kind === 'local' ? { kind: 'local', root: path.join(spec.root, area) } : { ...spec, prefix: `${spec.prefix}${area}/` };
}
