import type { FastifyBaseLogger } from 'fastify';
import { notFound } from '../errors.js';
import type { FileStore } from '../files/store.js';
import type { TrashRepository } from '../repositories/trash.repository.js';
import type { SessionContext } from './keyring.js';

const PURGE_BATCH = 500;

/**
 * Permanent delete: one item from the trash, the whole trash, and the automatic purge of items
 * trashed more than `retentionDays` ago. Each removes the item's row, its versions, postings and
 * tag links (cascades), tags left unused, and its file's bytes once no other item or version
 * points at the file. The purge needs no keys: everything it decides on is in clear.
 */
export class TrashService {
  #timer?: NodeJS.Timeout;
  #running?: Promise<number>;

  constructor(
    private readonly repo: TrashRepository,
    private readonly store: FileStore,
    private readonly log: FastifyBaseLogger,
    private readonly opts: { retentionDays: number; everyMs: number },
  ) {}

  async #purge(userId: string, ids: string[]): Promise<number> {
    const files = await this.repo.purge(userId, ids);
    for (const f of files) {
      // The rows are gone; bytes left behind by a failure here are ciphertext nothing points at.
      await this.store
        .remove(f.user_id, f.id)
        .catch((err: Error) => this.log.error({ err: { name: err.name, code: (err as { code?: string }).code } }, 'could not remove a purged file'));
    }
    return ids.length;
  }

  async deleteForever(session: SessionContext, itemId: string): Promise<void> {
    const ids = await this.repo.trashed(session.userId, [itemId]);
    if (ids.length === 0) throw notFound();
    await this.#purge(session.userId, ids);
  }

  async empty(session: SessionContext): Promise<void> {
    const ids = await this.repo.trashed(session.userId);
    for (let i = 0; i < ids.length; i += PURGE_BATCH) await this.#purge(session.userId, ids.slice(i, i + PURGE_BATCH));
  }

  /** Purges everything trashed before `now - retentionDays`, in batches; answers how many. */
  async purgeExpired(now: Date = new Date()): Promise<number> {
    const before = new Date(now.getTime() - this.opts.retentionDays * 86_400_000);
    let total = 0;
    for (;;) {
      const rows = await this.repo.expired(before, PURGE_BATCH);
      if (rows.length === 0) break;
      const byUser = new Map<string, string[]>();
      for (const r of rows) byUser.set(r.user_id, [...(byUser.get(r.user_id) ?? []), r.id]);
      for (const [userId, ids] of byUser) total += await this.#purge(userId, ids);
      if (rows.length < PURGE_BATCH) break;
    }
    if (total) this.log.info({ purged: total }, 'trash retention purge');
    return total;
  }

  start(): void {
    const run = () => {
      if (this.#running) return;
      this.#running = this.purgeExpired()
        .catch((err: Error) => {
          this.log.error({ err: { name: err.name, code: (err as { code?: string }).code } }, 'trash purge failed');
          return 0;
        })
        .finally(() => {
          this.#running = undefined;
        });
    };
    run();
    this.#timer = setInterval(run, this.opts.everyMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }
}
