import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireSession } from '../../http/session.js';
import type { ManualService } from '../../services/manual.service.js';
import { IdParams, Item, ManualEntry } from '../../../contract/index.js';

/** Hand-entered measurements, medications, allergies and conditions (stored as FHIR-shaped records). */
export const manualRoutes =
  (deps: { manual: ManualService }): FastifyPluginAsyncZod =>
  async (app) => {
    app.post('/api/records/manual', { schema: { body: ManualEntry, response: { 201: Item } } }, async (req, reply) =>
      reply.code(201).send(await deps.manual.create(requireSession(req), req.body)),
    );
    app.put('/api/records/manual/:id', { schema: { params: IdParams, body: ManualEntry, response: { 200: Item } } }, async (req) =>
      deps.manual.update(requireSession(req), req.params.id, req.body),
    );
    app.delete('/api/records/manual/:id', { schema: { params: IdParams } }, async (req, reply) => {
      await deps.manual.remove(requireSession(req), req.params.id);
      return reply.code(204).send();
    });
  };
