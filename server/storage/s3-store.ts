import { DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PassThrough, Readable, Writable } from 'node:stream';
import { checkKey, checkPrefix, type ObjectStore, type StorageSpec } from './object-store.js';

/** Multipart part size: S3's minimum is 5 MiB; 8 MiB keeps at most ~32 MiB in flight per upload. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 4;

type S3Spec = Extract<StorageSpec, { kind: 's3' }>;

const isMissing = (err: unknown) => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
};

/**
 * Objects in an S3 bucket (AWS or any S3-compatible server) under `spec.prefix`. Writes stream
 * as multipart uploads (lib-storage), reads stream the body, and the zip reader's random access
 * becomes ranged GETs. Errors carry the SDK's error name only: a request's URL or signature never
 * reaches a log.
 */
export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  readonly #client: S3Client;

  constructor(private readonly spec: S3Spec) {
    this.#client = new S3Client({
      region: spec.region,
      forcePathStyle: spec.forcePathStyle,
      ...(spec.endpoint ? { endpoint: spec.endpoint } : {}),
      ...(spec.accessKeyId && spec.secretAccessKey ? { credentials: { accessKeyId: spec.accessKeyId, secretAccessKey: spec.secretAccessKey } } : {}),
    });
  }

  #key(key: string): string {
    return this.spec.prefix + checkKey(key);
  }

  createWriteStream(key: string): Writable {
    const body = new PassThrough({ highWaterMark: 1 << 20 });
    const upload = new Upload({
      client: this.#client,
      params: { Bucket: this.spec.bucket, Key: this.#key(key), Body: body },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      // A failed upload aborts its parts instead of leaving them billed in the bucket.
      leavePartsOnError: false,
    });
    const done = upload.done();
    const out: Writable = new Writable({
      highWaterMark: 1 << 20,
      write(chunk: Buffer, _enc, cb) {
        if (body.write(chunk)) cb();
        else body.once('drain', () => cb());
      },
      final(cb) {
        body.end();
        done.then(
          () => cb(),
          (e: Error) => cb(storageError('write', e)),
        );
      },
      destroy(err, cb) {
        void upload.abort().catch(() => {});
        body.destroy();
        cb(err);
      },
    });
    // A failed upload stops reading its body: fail the writer at once rather than leave it
    // waiting for a 'drain' that never comes.
    done.catch((e: Error) => {
      if (!out.destroyed) out.destroy(storageError('write', e));
    });
    return out;
  }

  createReadStream(key: string): Readable {
    const out = new PassThrough({ highWaterMark: 1 << 20 });
    this.#client.send(new GetObjectCommand({ Bucket: this.spec.bucket, Key: this.#key(key) })).then(
      (res) => {
        const body = res.Body as Readable;
        body.on('error', (e) => out.destroy(storageError('read', e)));
        body.pipe(out);
      },
      (e: Error) => out.destroy(storageError('read', e)),
    );
    return out;
  }

  async readRange(key: string, start: number, end: number): Promise<Buffer> {
    if (end <= start) return Buffer.alloc(0);
    try {
      const res = await this.#client.send(new GetObjectCommand({ Bucket: this.spec.bucket, Key: this.#key(key), Range: `bytes=${start}-${end - 1}` }));
      const bytes = Buffer.from(await res.Body!.transformToByteArray());
      if (bytes.length !== end - start) throw new Error('object shorter than the range read');
      return bytes;
    } catch (e) {
      throw storageError('ranged read', e as Error);
    }
  }

  async size(key: string): Promise<number | null> {
    try {
      const res = await this.#client.send(new HeadObjectCommand({ Bucket: this.spec.bucket, Key: this.#key(key) }));
      return res.ContentLength ?? 0;
    } catch (e) {
      if (isMissing(e)) return null;
      throw storageError('head', e as Error);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.spec.bucket, Key: this.#key(key) }));
    } catch (e) {
      if (!isMissing(e)) throw storageError('delete', e as Error);
    }
  }

  async deletePrefix(prefix: string): Promise<void> {
    checkPrefix(prefix);
    let batch: string[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const keys = batch;
      batch = [];
      try {
        const res = await this.#client.send(
          new DeleteObjectsCommand({ Bucket: this.spec.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }),
        );
        if (res.Errors?.length) throw new Error(`${res.Errors.length} objects were not deleted`);
      } catch (e) {
        throw storageError('delete', e as Error);
      }
    };
    for await (const o of this.list(prefix)) {
      batch.push(this.spec.prefix + o.key);
      if (batch.length >= 1000) await flush();
    }
    await flush();
  }

  async *list(prefix: string): AsyncIterable<{ key: string; size: number; modified: Date }> {
    if (prefix !== '') checkPrefix(prefix);
    let token: string | undefined;
    do {
      let res;
      try {
        res = await this.#client.send(
          new ListObjectsV2Command({ Bucket: this.spec.bucket, Prefix: this.spec.prefix + prefix, ...(token ? { ContinuationToken: token } : {}) }),
        );
      } catch (e) {
        throw storageError('list', e as Error);
      }
      for (const o of res.Contents ?? []) {
        if (!o.Key) continue;
        yield { key: o.Key.slice(this.spec.prefix.length), size: o.Size ?? 0, modified: o.LastModified ?? new Date(0) };
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }
}

/** The operation and the SDK's error name, never its message (which may quote the request). */
function storageError(op: string, err: Error): Error {
  const name = (err as { name?: string })?.name ?? 'Error';
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const e = new Error(`object storage ${op} failed: ${name}${status ? ` (${status})` : ''}`);
  (e as Error & { code?: string }).code = isMissing(err) ? 'ENOENT' : 'STORAGE_ERROR';
  return e;
}
