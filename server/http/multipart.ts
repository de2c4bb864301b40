import type { MultipartFile } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { badRequest, type AppError } from '../errors.js';

export interface ReceiveFileOptions {
  /** What to throw when the body is not multipart/form-data (routes word it for what they take). */
  notMultipart: AppError;
  /** Overrides the general upload limits (imports reach gigabytes). */
  limits?: { fileSize?: number; files?: number };
  /** Each text field before the file, as it arrives; throwing stops the upload with that error. */
  onField?: (name: string, value: string) => void;
}

/**
 * The one multipart reader: fields before the `file` part go to `onField`, other file parts are
 * drained, and the `file` part is handed to `use` as a stream, never buffered. No `file` part is
 * a 400 `missing_file`.
 */
export async function receiveFile<T>(req: FastifyRequest, opts: ReceiveFileOptions, use: (file: MultipartFile) => Promise<T>): Promise<T> {
  if (!req.isMultipart()) throw opts.notMultipart;
  for await (const part of opts.limits ? req.parts({ limits: opts.limits }) : req.parts()) {
    if (part.type === 'field') {
      if (typeof part.value === 'string') opts.onField?.(part.fieldname, part.value);
      continue;
    }
    if (part.fieldname !== 'file') {
      part.file.resume();
      continue;
    }
    // Awaited inside the loop: leaving it closes the parts iterator, which would end the stream.
    return await use(part);
  }
  throw badRequest('No file was sent. Use a multipart field named "file".', 'missing_file');
}
