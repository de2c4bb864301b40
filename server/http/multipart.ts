import type { Multipart } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { Transform, type Readable } from 'node:stream';
import { AppError, badRequest } from '../errors.js';
import { frameworkError } from './error-handler.js';

export interface ReceiveFileOptions {
  /** What to throw when the body is not multipart/form-data (routes word it for what they take). */
  notMultipart: AppError;
  /** Overrides the general upload limits (imports reach gigabytes). */
  limits?: { fileSize?: number; files?: number };
  /**
   * The text fields the route reads, by name, each called with its value as it arrives; throwing
   * stops the upload with that error. They must come before the file: one of them after it is a
   * 400 `field_after_file`. Fields of other names are ignored wherever they are.
   */
  fields?: Record<string, (value: string) => void>;
}

/** The `file` part as the route's `use` gets it: the bytes as they arrive, never buffered. */
export interface UploadedFile {
  /** `truncated` is true when the body went past the file size limit (the stream then ends early). */
  file: Readable & { truncated: boolean };
  filename: string;
  mimetype: string;
}

/** A body busboy could not read (no boundary, a cut-off or garbled part): the client's fault, told plainly. */
const badMultipart = () =>
  badRequest('The multipart/form-data body is malformed or incomplete: check the boundary and send every part in full.', 'bad_multipart');

/** Whatever reading the body threw, as the error the client gets: ours, a mapped plugin limit, or `bad_multipart`. */
function asUploadError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  return frameworkError(err) ?? badMultipart();
}

const fieldAfterFile = (name: string) =>
  badRequest(`Send the "${name}" field before the file: the file is read as it arrives, so a field after it cannot apply.`, 'field_after_file');

/**
 * The one multipart reader. Fields before the `file` part go to their `fields` handler, other
 * file parts are drained, and the `file` part is handed to `use` as a stream, never buffered. No
 * `file` part is a 400 `missing_file`.
 *
 * The stream given to `use` ends only once the rest of the body has been read too, so whatever
 * the body still held decides how it ends: a known field after the file (400
 * `field_after_file`), a second file or too many parts (the plugin's limits), or a body that
 * stops mid-part or cannot be parsed (400 `bad_multipart`) make it fail instead, and `use` never
 * keeps an upload the request did not send in full. A malformed body is a 400 `bad_multipart`
 * wherever it is noticed; nothing about it is logged as a server error.
 */
export async function receiveFile<T>(req: FastifyRequest, opts: ReceiveFileOptions, use: (file: UploadedFile) => Promise<T>): Promise<T> {
  if (!req.isMultipart()) throw opts.notMultipart;
  const fields = opts.fields ?? {};
  const known = (name: string) => Object.hasOwn(fields, name);
  let parts: AsyncIterator<Multipart>;
  try {
    parts = (opts.limits ? req.parts({ limits: opts.limits }) : req.parts())[Symbol.asyncIterator]();
  } catch (err) {
    throw asUploadError(err);
  }
  // What went wrong with the body itself once the file was handed over. Services may answer a
  // failed stream in their own words (an export that will not decrypt is "wrong key"), but the
  // cause was the body, so this is what the client is told.
  let bodyError: AppError | undefined;
  const failed = (err: unknown) => (bodyError ??= asUploadError(err));
  const next = async (): Promise<Multipart | undefined> => {
    try {
      const r = await parts.next();
      return r.done ? undefined : r.value;
    } catch (err) {
      throw asUploadError(err);
    }
  };

  // What follows the file: read to the end (fields are small and few, a later file is drained),
  // then the first known field found there fails the upload.
  const rest = async (): Promise<void> => {
    let late: string | undefined;
    for (let part = await next(); part; part = await next()) {
      if (part.type === 'file') part.file.resume();
      else if (known(part.fieldname)) late ??= part.fieldname;
    }
    if (late) throw fieldAfterFile(late);
  };

  for (let part = await next(); part; part = await next()) {
    if (part.type === 'field') {
      if (typeof part.value === 'string' && known(part.fieldname)) {
        // The validator's rule for every other input: PostgreSQL cannot store U+0000.
        if (part.value.includes('\u0000')) throw badRequest(`${part.fieldname}: must not contain a NUL character (U+0000)`, 'invalid_request');
        fields[part.fieldname]!(part.value);
      }
      continue;
    }
    if (part.fieldname !== 'file') {
      part.file.resume();
      continue;
    }
    const source = part.file;
    const file = new Transform({
      transform: (chunk: Buffer, _enc, cb) => cb(null, chunk),
      flush: (cb) => {
        // Past the size limit the part ends early and `truncated` is set: every `use` answers
        // that itself (a 413, after removing what it wrote), so the rest is not waited for.
        if (source.truncated) return cb();
        rest().then(
          () => cb(),
          (err: unknown) => cb(failed(err)),
        );
      },
    });
    // busboy errors the part when the body ends mid-part; `use` sees a 400, not busboy's error.
    source.on('error', (err) => file.destroy(failed(err)));
    // A service that gave up on the stream (resume() and a 400 of its own) has no listener left.
    file.on('error', () => {});
    // `use` gave up on the stream (its own error): stop reading the body, as before the wrapper.
    file.on('close', () => {
      if (!source.readableEnded) source.destroy();
    });
    Object.defineProperty(file, 'truncated', { get: () => source.truncated });
    if (source.errored || (source.destroyed && !source.readableEnded)) {
      // A small body is parsed whole at once: busboy may have failed the part before we got here.
      file.destroy(failed(source.errored));
    } else {
      source.pipe(file);
    }
    try {
      return await use({ file: file as Transform & { truncated: boolean }, filename: browserFileName(part.filename), mimetype: part.mimetype });
    } catch (err) {
      throw bodyError ?? err;
    }
  }
  throw badRequest('No file was sent. Use a multipart field named "file".', 'missing_file');
}

/**
 * The file name as the person's system has it. Browsers (the HTML standard's multipart/form-data
 * encoding) and undici's FormData send `"`, CR and LF in a file name as `%22`, `%0D` and `%0A`,
 * and nothing else percent-encoded, so exactly those are read back.
 */
export function browserFileName(name: string): string {
  return name.replace(/%(22|0d|0a)/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
