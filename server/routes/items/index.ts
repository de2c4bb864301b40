import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { badRequest, tooLarge } from '../../errors.js';
import { requireSession } from '../../http/session.js';
import type { FoldersService } from '../../services/folders.service.js';
import type { ItemsService } from '../../services/items.service.js';
import {
  CreateItemBody,
  IdParams,
  IfMatchHeaders,
  Item,
  ITEM_BODY_MAX_BYTES,
  ITEM_TEXT_MAX,
  ItemPage,
  ListItemsQuery,
  PatchItemBody,
  TagList,
} from '../../../contract/index.js';

/**
 * The server-wide MAX_JSON_KB counts escaped UTF-8 bytes, so a note well within its character
 * limit (CJK, emoji, or short lines whose newlines travel as `\n`) would not fit: item writes
 * take the largest body a valid item can need, and say the limit in characters past it.
 */
const ITEM_WRITE = { bodyLimit: ITEM_BODY_MAX_BYTES } as const;
const TOO_LARGE = `A note can hold at most ${ITEM_TEXT_MAX.toLocaleString('en-US')} characters. This one is larger: split it into several notes.`;

export const itemsRoutes =
  (deps: { items: ItemsService; folders: FoldersService }): FastifyPluginAsyncZod =>
  async (app) => {
    const { items, folders } = deps;

    // Only this plugin's routes: anything else thrown goes on to the app's error handler.
    app.setErrorHandler((err) => {
      if ((err as { code?: unknown }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') throw tooLarge(TOO_LARGE);
      throw err;
    });

    app.post('/api/items', { ...ITEM_WRITE, schema: { body: CreateItemBody, response: { 201: Item } } }, async (req, reply) => {
      const item = await items.create(requireSession(req), { ...req.body, source: 'manual' });
      return reply.code(201).send(item);
    });

    app.get('/api/items', { schema: { querystring: ListItemsQuery, response: { 200: ItemPage } } }, async (req) =>
      folders.listItems(requireSession(req), { ...req.query, text: req.query.text ?? 'full' }),
    );

    app.get('/api/items/:id', { schema: { params: IdParams, response: { 200: Item } } }, async (req, reply) => {
      const item = await items.get(requireSession(req), req.params.id);
      // The version as an entity tag, so a plain HTTP client can send it back as If-Match.
      return reply.header('etag', `"${item.version}"`).send(item);
    });

    app.patch(
      '/api/items/:id',
      { ...ITEM_WRITE, schema: { params: IdParams, headers: IfMatchHeaders, body: PatchItemBody, response: { 200: Item } } },
      async (req) => {
        const session = requireSession(req);
        const ifMatch = req.headers['if-match'];
        if (ifMatch !== undefined) {
          // Two preconditions that disagree: neither is dropped for the other.
          if (req.body.baseVersion !== undefined && req.body.baseVersion !== ifMatch) {
            throw badRequest('if-match: must be the same version as baseVersion when both are sent', 'invalid_request');
          }
        }
        return items.update(session, req.params.id, { ...req.body, baseVersion: req.body.baseVersion ?? ifMatch });
      },
    );

    app.delete('/api/items/:id', { schema: { params: IdParams } }, async (req, reply) => {
      await items.trash(requireSession(req), req.params.id);
      return reply.code(204).send();
    });

    app.post('/api/items/:id/restore', { schema: { params: IdParams, response: { 200: Item } } }, async (req) =>
      items.restore(requireSession(req), req.params.id),
    );

    app.get(
      '/api/trash',
      { schema: { querystring: ListItemsQuery.pick({ limit: true, cursor: true, text: true }), response: { 200: ItemPage } } },
      async (req) => items.list(requireSession(req), { ...req.query, text: req.query.text ?? 'full' }, true),
    );

    app.get('/api/tags', { schema: { response: { 200: TagList } } }, async (req) => ({ tags: await items.tags(requireSession(req)) }));
  };
