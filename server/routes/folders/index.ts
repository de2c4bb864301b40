import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireSession } from '../../http/session.js';
import type { FoldersService } from '../../services/folders.service.js';
import { IdParams } from '../schemas.js';

const name = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200)
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  .refine((v) => !/[\u0000-\u001f\u007f]/.test(v), 'must not contain control characters');
const parentId = z.uuid({ message: 'must be a valid id' }).nullable();
const Folder = z.object({ id: z.string(), name: z.string(), parentId: z.string().nullable() });
const CreateFolder = z.object({ name, parentId: parentId.optional() });
const PatchFolder = z.object({ name: name.optional(), parentId: parentId.optional() }).refine((b) => Object.keys(b).length > 0, 'nothing to change');

export const foldersRoutes =
  (deps: { folders: FoldersService }): FastifyPluginAsyncZod =>
  async (app) => {
    const { folders } = deps;

    app.post('/api/folders', { schema: { body: CreateFolder, response: { 201: Folder } } }, async (req, reply) =>
      reply.code(201).send(await folders.create(requireSession(req), req.body)),
    );

    app.get('/api/folders', { schema: { response: { 200: z.object({ folders: z.array(Folder.extend({ count: z.number() })) }) } } }, async (req) => ({
      folders: await folders.list(requireSession(req)),
    }));

    app.patch('/api/folders/:id', { schema: { params: IdParams, body: PatchFolder, response: { 200: Folder } } }, async (req) =>
      folders.update(requireSession(req), req.params.id, req.body),
    );

    app.delete('/api/folders/:id', { schema: { params: IdParams } }, async (req, reply) => {
      await folders.delete(requireSession(req), req.params.id);
      return reply.code(204).send();
    });
  };
