import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PassThrough, Readable, Writable } from 'node:stream';
import { networkFailure } from '../network-error.js';
import { checkKey, checkPrefix, STORAGE_UNAVAILABLE, type ObjectStore, type StorageSpec } from './object-store.js';

/** Multipart part size: S3's minimum is 5 MiB; 8 MiB keeps at most ~32 MiB in flight per upload. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 4;

type S3Spec = Extract<StorageSpec, { kind: 's3' }>;

/**
 * How long a connection may take to open, and a socket may stay silent mid-request, before the
 * request fails as "does not answer" (the SDK retries it twice more). Idle, not total: a large
 * upload or download that keeps moving is never cut, and a bucket that hangs costs a request
 * well under a minute instead of forever.
 */
export interface S3Timeouts {
  connectMs: number;
  idleMs: number;
}
const TIMEOUTS: S3Timeouts = { connectMs: 5_000, idleMs: 15_000 };

const isMissing = (err: unknown) => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
};

/**
 * Objects in an S3 bucket (AWS or any S3-compatible server) under `spec.prefix`. Writes stream
 * as multipart uploads (lib-storage), reads stream the body, and the zip reader's random access
 * becomes ranged GETs. Errors carry the SDK's error name and status, or the network error's code
 * and address, never the SDK's message: a request's URL or signature never reaches a log.
 */
export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  readonly #client: S3Client;
  readonly #where: string;

  constructor(
    private readonly spec: S3Spec,
    timeouts: S3Timeouts = TIMEOUTS,
  ) {
    this.#where = describeEndpoint(spec);
    // The SDK warns on Node < 22 that its releases after January 2027 will need 22, in nine lines
    // of plain text on every start that break the JSON log. The lockfile pins a release that
    // supports Node 20, which this project supports (README); upgrading it is when this matters.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.#client = new S3Client({
      region: spec.region,
      forcePathStyle: spec.forcePathStyle,
      requestHandler: { connectionTimeout: timeouts.connectMs, socketTimeout: timeouts.idleMs },
      ...(spec.endpoint ? { endpoint: spec.endpoint } : {}),
      ...(spec.accessKeyId && spec.secretAccessKey ? { credentials: { accessKeyId: spec.accessKeyId, secretAccessKey: spec.secretAccessKey } } : {}),
    });
  }

  #key(key: string): string {
    return this.spec.prefix + checkKey(key);
  }

  createWriteStream(key: string): Writable {
    const where = this.#where;
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
          (e: Error) => cb(storageError(where, 'write', e)),
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
      if (!out.destroyed) out.destroy(storageError(where, 'write', e));
    });
    return out;
  }

  createReadStream(key: string): Readable {
    const out = new PassThrough({ highWaterMark: 1 << 20 });
    this.#client.send(new GetObjectCommand({ Bucket: this.spec.bucket, Key: this.#key(key) })).then(
      (res) => {
        const body = res.Body as Readable;
        body.on('error', (e) => out.destroy(storageError(this.#where, 'read', e)));
        body.pipe(out);
      },
      (e: Error) => out.destroy(storageError(this.#where, 'read', e)),
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
      throw storageError(this.#where, 'ranged read', e as Error);
    }
  }

  async size(key: string): Promise<number | null> {
    try {
      const res = await this.#client.send(new HeadObjectCommand({ Bucket: this.spec.bucket, Key: this.#key(key) }));
      return res.ContentLength ?? 0;
    } catch (e) {
      if (isMissing(e)) return null;
      throw storageError(this.#where, 'head', e as Error);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.spec.bucket, Key: this.#key(key) }));
    } catch (e) {
      if (!isMissing(e)) throw storageError(this.#where, 'delete', e as Error);
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
        throw storageError(this.#where, 'delete', e as Error);
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
        throw storageError(this.#where, 'list', e as Error);
      }
      for (const o of res.Contents ?? []) {
        if (!o.Key) continue;
        yield { key: o.Key.slice(this.spec.prefix.length), size: o.Size ?? 0, modified: o.LastModified ?? new Date(0) };
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
  }

  async check(timeoutMs: number): Promise<void> {
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: this.spec.bucket }), { abortSignal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
      throw storageError(this.#where, 'check', e as Error);
    }
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }
}

/** Network failures: the store did not answer at all. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);
/** SDK error names of a store that answered late or not at all (our own timeout is an AbortError). */
const TIMED_OUT = new Set(['AbortError', 'TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

type SdkError = Error & { code?: string; address?: string; port?: number; hostname?: string; errors?: unknown[]; $metadata?: { httpStatusCode?: number } };

/**
 * Which setting says where the store is, and its address as the operator wrote it without any
 * user:password or path (an endpoint URL may carry credentials).
 */
function describeEndpoint(spec: S3Spec): string {
  if (!spec.endpoint) return `S3_REGION: object storage (AWS S3 in ${spec.region})`;
  let origin = '(unparsable URL)';
  try {
    origin = new URL(spec.endpoint).origin;
  } catch {
    // Config checks the URL; this is only a fallback for a spec built elsewhere.
  }
  return `S3_ENDPOINT: object storage at ${origin}`;
}

/**
 * Why a request failed, safe to log: a network error's code and the address it was refused at
 * (`ECONNREFUSED 127.0.0.1:9000`), or the SDK's error name and HTTP status (`AccessDenied (403)`).
 * Never the SDK's message, which may quote the request.
 */
function describeCause(err: SdkError): string {
  const network = networkFailure(err, UNREACHABLE);
  if (network) return network;
  const code = err.code;
  const name = err.name ?? 'Error';
  const status = err.$metadata?.httpStatusCode;
  return `${name}${typeof code === 'string' && code !== name && /^[A-Z][A-Z0-9_]+$/.test(code) ? ` ${code}` : ''}${status ? ` (${status})` : ''}`;
}

/**
 * A storage error the operator can act on: the operation and the cause (see describeCause). A
 * store that does not answer names the variable that says where it is
 * (`S3_ENDPOINT: object storage at http://127.0.0.1:9000 does not answer (list: ECONNREFUSED
 * 127.0.0.1:9000)`) and has the code STORAGE_UNAVAILABLE, as has a 5xx answer; a missing object
 * is ENOENT; anything else is STORAGE_ERROR.
 */
function storageError(where: string, op: string, err: Error): Error {
  const e = (err ?? new Error('unknown')) as SdkError;
  const cause = describeCause(e);
  const first = (Array.isArray(e.errors) ? e.errors[0] : undefined) as SdkError | undefined;
  const code = e.code ?? first?.code;
  const status = e.$metadata?.httpStatusCode;
  let message: string;
  let kind: string;
  if ((typeof code === 'string' && UNREACHABLE.has(code)) || TIMED_OUT.has(e.name)) {
    message = `${where} does not answer (${op}: ${TIMED_OUT.has(e.name) ? 'timed out' : cause})`;
    kind = STORAGE_UNAVAILABLE;
  } else if (status !== undefined && status >= 500) {
    message = `${where} is unavailable (${op}: ${cause})`;
    kind = STORAGE_UNAVAILABLE;
  } else {
    message = `object storage ${op} failed: ${cause}`;
    kind = isMissing(e) ? 'ENOENT' : 'STORAGE_ERROR';
  }
  const out = new Error(message);
  (out as Error & { code?: string }).code = kind;
  return out;
}
