import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireSession } from '../../http/session.js';
import type { FoldersService } from '../../services/folders.service.js';
import { CreateFolderBody, Folder, FolderList, IdParams, PatchFolderBody } from '../../../contract/index.js';

export const foldersRoutes =
  (deps: { folders: FoldersService }): FastifyPluginAsyncZod =>
  async (app) => {
    const { folders } = deps;

    app.post('/api/folders', { schema: { body: CreateFolderBody, response: { 201: Folder } } }, async (req, reply) =>
      reply.code(201).send(await folders.create(requireSession(req), req.body, { uniqueName: true })),
    );

    app.get('/api/folders', { schema: { response: { 200: FolderList } } }, async (req) => ({ folders: await folders.list(requireSession(req)) }));

    app.patch('/api/folders/:id', { schema: { params: IdParams, body: PatchFolderBody, response: { 200: Folder } } }, async (req) =>
      folders.update(requireSession(req), req.params.id, req.body),
    );

    app.delete('/api/folders/:id', { schema: { params: IdParams } }, async (req, reply) => {
      await folders.delete(requireSession(req), req.params.id);
      return reply.code(204).send();
    });
  };
