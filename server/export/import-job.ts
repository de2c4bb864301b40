import { randomUUID } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { isAgeIdentity, type AgeKey } from '../../crypto/index.js';
import { importFile } from '../codec/index.js';
import { AppError, badRequest, tooLarge } from '../errors.js';
import type { FileSeal, ImportFiles } from '../jobs/encrypted-file.js';
import { JobFailure, type JobContext, type JobRunner } from '../jobs/runner.js';
import type { JobsRepository } from '../repositories/jobs.repository.js';
import type { AuditRepository } from '../repositories/audit.repository.js';
import type { KeyRing, SessionContext } from '../services/keyring.js';
import type { Metrics } from '../metrics/registry.js';
import { ExportImportService } from './export-import.service.js';

export const EXPORT_JOB_KIND = 'vault_export';

/**
 * The key an upload's form field names: `passphrase`, or `identity` (an age identity file or
 * line; its first `AGE-SECRET-KEY-1` line is the key). Other fields and empty values name none.
 */
export function ageKeyFromField(name: string, value: string): AgeKey | undefined {
  if (!value) return undefined;
  if (name === 'passphrase') return { passphrase: value };
  if (name !== 'identity') return undefined;
  const line = value
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l.startsWith('AGE-SECRET-KEY-1'));
  if (!line || !isAgeIdentity(line)) throw badRequest('identity must be an age X25519 identity (AGE-SECRET-KEY-1...).', 'invalid_identity');
  return { identity: line };
}

/**
 * `POST /api/import/export` as a job. The age layer is removed while the upload arrives (so a
 * wrong passphrase is a 422 at once), and what is kept for the job is the tar sealed under a
 * key from the owner's vault key, like every other import file. The export's passphrase or
 * identity is therefore never stored, and an interrupted job can still resume after a restart.
 */
export class ExportImportJobs {
  constructor(
    private readonly jobs: JobsRepository,
    private readonly runner: JobRunner,
    private readonly files: ImportFiles,
    private readonly importer: ExportImportService,
    private readonly opts: { maxImportBytes: number; audit: AuditRepository; metrics?: Metrics },
  ) {
    runner.register(EXPORT_JOB_KIND, {
      run: (ctx) => this.#run(ctx),
      describe: (err) => (err instanceof AppError || err instanceof JobFailure ? err.message : undefined),
    });
  }

  #seal(keys: KeyRing, userId: string, jobId: string): FileSeal {
    return importFile.stream(keys, userId, jobId);
  }

  /** `key` comes from the fields before the file ({@link ageKeyFromField}); none is a 400. */
  async start(session: SessionContext, file: Readable & { truncated?: boolean }, key: AgeKey | undefined, requestId?: string): Promise<{ jobId: string }> {
    if (!key) {
      file.resume();
      throw badRequest('Send a "passphrase" or "identity" field before the file.', 'missing_key');
    }
    const { userId, keys } = session;
    const jobId = randomUUID();
    const limit = this.opts.maxImportBytes;
    // Past the upload limit busboy just ends the stream, which decryption reads as a cut-off export: the
    // person is told the file is too large, not that an intact backup is damaged.
    const overLimit = () => tooLarge(`The export is larger than the ${Math.floor(limit / 1024 / 1024)} MB this server accepts.`);
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb: TransformCallback) {
        size += chunk.length;
        if (size > limit) return cb(overLimit());
        cb(null, chunk);
      },
    });
    let plain: Readable;
    try {
      plain = await ExportImportService.open(file, key);
    } catch (err) {
      file.resume();
      throw file.truncated ? overLimit() : err;
    }
    try {
      await this.files.write(userId, jobId, this.#seal(keys, userId, jobId), plain, meter);
    } catch (err) {
      file.resume();
      if (file.truncated) throw overLimit(); // write() removed what it had stored
      if (err instanceof AppError) throw err;
      // A failed ChaCha20-Poly1305 chunk or a cut-off upload.
      throw new AppError(422, 'damaged_export', 'The export is damaged or incomplete: it could not be decrypted to the end.');
    }
    if (file.truncated) {
      await this.files.remove(userId, jobId);
      throw overLimit();
    }
    try {
      await this.jobs.insert({
        id: jobId,
        userId,
        kind: EXPORT_JOB_KIND,
        progress: { done: 0, unit: 'records' },
        inputRef: `imports/${jobId}`,
        inputFormat: 'tar',
      });
    } catch (err) {
      await this.files.remove(userId, jobId);
      throw err;
    }
    this.runner.submit({ id: jobId, userId }, keys);
    await this.opts.audit.record('import', userId, requestId);
    return { jobId };
  }

  async #run(ctx: JobContext): Promise<void> {
    const { job, session } = ctx;
    const tarStream = this.files.openStream(session.userId, job.id, this.#seal(session.keys, session.userId, job.id));
    ctx.signal.addEventListener('abort', () => tarStream.destroy(new Error('aborted')), { once: true });
    const started = Date.now();
    try {
      // What was kept is counted whether the run succeeds or fails, so a failed job's result
      // says what its message says.
      await this.importer.restoreTar(
        session,
        tarStream,
        (done, total) => ctx.progress({ done, ...(total !== undefined ? { total } : {}), unit: 'records' }),
        (imported, warnings) => {
          for (const [section, n] of Object.entries(imported)) {
            ctx.count(section, n);
            this.opts.metrics?.importRecords.inc({ section }, n);
          }
          // Beside the sections, as the other imports report what they left out: a reason and a count.
          for (const [reason, n] of Object.entries(warnings)) ctx.count(reason, n);
        },
      );
      this.opts.metrics?.importJobs.inc({ status: 'done' });
    } catch (err) {
      this.opts.metrics?.importJobs.inc({ status: 'failed' });
      throw err;
    } finally {
      this.opts.metrics?.importSeconds.observe((Date.now() - started) / 1000);
    }
  }
}
