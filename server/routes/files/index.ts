import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AppError, badRequest, tooLarge, unsupportedType } from '../../errors.js';
import { receiveFile } from '../../http/multipart.js';
import { requireSession } from '../../http/session.js';
import { contentDisposition, type FilesService } from '../../services/files.service.js';
import { MAX_FHIR_JSON_BYTES } from '../../services/imports.service.js';
import { cleanTags } from '../../services/items.service.js';
import { IdParams, Item, Limits } from '../../../contract/index.js';

export const filesRoutes =
  (deps: { files: FilesService; maxUploadBytes: number; maxImportBytes: number }): FastifyPluginAsyncZod =>
  async (app) => {
    const maxUploadMb = Math.floor(deps.maxUploadBytes / (1024 * 1024));
    // The web app checks a file's size before sending it, instead of learning the limit after a long upload.
    app.get('/api/limits', { schema: { response: { 200: Limits } } }, async (req) => {
      requireSession(req);
      return { maxUploadBytes: deps.maxUploadBytes, maxImportBytes: deps.maxImportBytes, maxFhirJsonBytes: Math.min(deps.maxImportBytes, MAX_FHIR_JSON_BYTES) };
    });

    app.post('/api/files', { schema: { response: { 200: Item, 201: Item } } }, async (req, reply) => {
      const session = requireSession(req);
      let tags: string[] | undefined;
      const r = await receiveFile(
        req,
        { notMultipart: unsupportedType('Send the file as multipart/form-data with a "file" field.'), fields: { tags: (value) => (tags = parseTags(value)) } },
        (part) => deps.files.upload(session, { stream: part.file, filename: part.filename, mimetype: part.mimetype, tags, log: req.log }),
      ).catch((err: unknown) => {
        // Say the limit, so the person knows what size would be accepted.
        if (err instanceof AppError && err.statusCode === 413) throw tooLarge(`The file is larger than this server accepts (${maxUploadMb} MB at most).`);
        throw err;
      });
      return reply.code(r.created ? 201 : 200).send(r.item);
    });

    app.get('/api/files/:id', { schema: { params: IdParams } }, async (req, reply) => {
      const f = await deps.files.download(requireSession(req), req.params.id);
      // The attachment headers go out only with the file's first bytes: a store that does not
      // answer is a JSON error the browser shows, not a download saved under the file's name.
      await firstBytes(f.stream).catch((err: unknown) => {
        f.stream.destroy();
        throw err;
      });
      return reply
        .header('content-type', f.meta.contentType)
        .header('content-length', String(f.size))
        .header('content-disposition', contentDisposition(f.meta.name))
        .header('content-security-policy', "sandbox; default-src 'none'")
        .header('cache-control', 'private, no-store')
        .send(f.stream);
    });
  };

/**
 * Resolves once the stream has its first bytes (or its end) buffered, without taking them;
 * rejects with its error if it fails first.
 */
function firstBytes(stream: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (err?: unknown) => {
      stream.off('readable', onReadable);
      stream.off('close', onClose);
      // The error listener stays: a later error is the response's to handle (it ends the
      // download), and one emitted before the response listens must not go unhandled.
      if (err) reject(err as Error);
      else resolve();
    };
    const onReadable = () => settle();
    const onClose = () => settle(stream.errored ?? new Error('the file stream closed before its first bytes'));
    if (stream.errored) return reject(stream.errored);
    stream.on('readable', onReadable);
    stream.on('error', settle);
    stream.on('close', onClose);
  });
}

/**
 * `tags` is one field: a JSON array of strings (`["a","b"]`) or a comma-separated list (`a, b,,c`
 * is `["a", "b", "c"]`). The items service trims, dedupes and counts them like the JSON routes.
 */
function parseTags(value: string): string[] {
  const trimmed = value.trim();
  if (!trimmed.startsWith('[')) {
    // Checked before the file arrives: a refused upload stores nothing.
    return cleanTags(
      trimmed
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || !parsed.every((t): t is string => typeof t === 'string')) {
    throw badRequest('tags: a value starting with "[" must be a JSON array of strings.', 'invalid_request');
  }
  return cleanTags(parsed.map((t) => t.trim()).filter(Boolean));
}
