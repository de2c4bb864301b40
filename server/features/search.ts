import { embeddingsRoutes } from '../routes/embeddings/index.js';
import { searchRoutes } from '../routes/search/index.js';
import type { EmbeddingService } from '../services/embedding.service.js';
import type { Feature } from './feature.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Embeddings, exposed so tests can see which owners have an opened vector index. */
    embeddings?: EmbeddingService;
  }
}

/** Hybrid search (keywords and vectors) and the embedding sweep that keeps vectors current. */
export const search: Feature = async (app, c) => {
  const { embeddings } = c;
  app.decorate('embeddings', embeddings);
  await app.register(searchRoutes({ hybrid: c.hybrid }));
  await app.register(embeddingsRoutes({ embeddings }));
  // The cheap trigger of the embedding sweep: any write by an unlocked owner starts it, and
  // reads do now and then (imports and inbox batches write in the background). Signing out or
  // deleting the account drops the owner's opened vector index.
  app.addHook('onResponse', (req, reply, done) => {
    const session = req.session;
    if (session && reply.statusCode < 400) {
      const route = `${req.method} ${req.routeOptions.url ?? ''}`;
      if (route === 'POST /api/auth/logout' || route === 'DELETE /api/account') embeddings.evict(session.userId);
      else embeddings.touch(session, req.method !== 'GET' && req.method !== 'HEAD');
    }
    done();
  });
};
