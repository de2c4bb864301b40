import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { badRequest } from '../../errors.js';
import { requireSession } from '../../http/session.js';
import { contentDisposition, type FilesService } from '../../services/files.service.js';
import { IdParams, Item } from '../../../contract/index.js';

export const filesRoutes =
  (deps: { files: FilesService }): FastifyPluginAsyncZod =>
  async (app) => {
    app.post('/api/files', { schema: { response: { 200: Item, 201: Item } } }, async (req, reply) => {
      const session = requireSession(req);
      if (!req.isMultipart()) throw badRequest('Send the file as multipart/form-data with a "file" field.', 'expected_multipart');
      let tags: string[] | undefined;
      // Fields before the file are read first; the file itself is streamed, never buffered.
      for await (const part of req.parts()) {
        if (part.type === 'field') {
          if (part.fieldname === 'tags' && typeof part.value === 'string') {
            tags = part.value
              .split(',')
              .map((t) => t.trim())
              .filter(Boolean);
          }
          continue;
        }
        if (part.fieldname !== 'file') {
          part.file.resume();
          continue;
        }
        const r = await deps.files.upload(session, { stream: part.file, filename: part.filename, mimetype: part.mimetype, tags });
        return reply.code(r.created ? 201 : 200).send(r.item);
      }
      throw badRequest('No file was sent. Use a multipart field named "file".', 'missing_file');
    });

    app.get('/api/files/:id', { schema: { params: IdParams } }, async (req, reply) => {
      const f = await deps.files.download(requireSession(req), req.params.id);
      return reply
        .header('content-type', f.meta.contentType)
        .header('content-length', String(f.size))
        .header('content-disposition', contentDisposition(f.meta.name))
        .header('content-security-policy', "sandbox; default-src 'none'")
        .header('cache-control', 'private, no-store')
        .send(f.stream);
    });
  };
