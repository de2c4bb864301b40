import type { ItemsService } from '../services/items.service.js';
import { foldersRoutes } from '../routes/folders/index.js';
import { historyRoutes } from '../routes/history/index.js';
import { itemsRoutes } from '../routes/items/index.js';
import type { Feature } from './feature.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The items service, exposed so benchmarks can seed large vaults through it in bulk. */
    vaultItems?: ItemsService;
  }
}

/** Vault items, their history, folders and the trash (with its retention purge). */
export const vault: Feature = async (app, c) => {
  app.decorate('vaultItems', c.items);
  await app.register(itemsRoutes({ items: c.items, folders: c.folders }));
  await app.register(historyRoutes({ history: c.history, trash: c.trash }));
  await app.register(foldersRoutes({ folders: c.folders }));
  app.decorate('trash', c.trash);
  c.trash.start();
  return () => c.trash.stop();
};
