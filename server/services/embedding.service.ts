import type { FastifyBaseLogger } from 'fastify';
import { NoModelError } from '../../sandbox/errors.js';
import * as codec from '../codec/index.js';
import { passageInput, passages } from '../embed/chunk.js';
import type { ItemVectors } from '../embed/pack.js';
import { quantize } from '../embed/quantize.js';
import { VectorIndex, type VectorHit } from '../embed/vector-index.js';
import { cachedReader } from '../metrics/cached.js';
import { LOAD_PAGE, type VectorsRepository } from '../repositories/vectors.repository.js';
import type { Embedder } from './embedder.js';
import type { ItemsService } from './items.service.js';
import type { KeyRing, SessionContext } from './keyring.js';
import type { SharedLease } from './turn-lease.js';

/** How retrieval ranks right now: with vectors, or BM25 alone (the UI says "keyword search only"). */
export type RetrievalMode = 'hybrid' | 'keyword';

export interface EmbeddingStatus {
  mode: RetrievalMode;
  model: string | null;
  /** Live items, and those whose vectors are current (the backfill's progress). */
  total: number;
  embedded: number;
  running: boolean;
}

export interface EmbeddingOptions {
  /** An opened index unused this long is dropped (default 10 minutes). */
  idleMs?: number;
  /** Items per sweep round: one sandbox lease, one write. */
  batchItems?: number;
  /** After a failed sweep (sandbox down, model missing), wait this long before the next. */
  retryMs?: number;
  /** A read-only request starts a sweep at most this often (writes start one at once). */
  touchEveryMs?: number;
}

const BACKLOG_CACHE_MS = 30_000;

interface Open {
  index: VectorIndex;
  usedAt: number;
  loading?: Promise<VectorIndex>;
}

interface Sweep {
  running: Promise<void> | null;
  /** A write arrived while a sweep ran: run again when it ends. */
  again: boolean;
  lastAt: number;
  failedAt: number;
}

/**
 * Embeddings: a background sweep that embeds whatever changed since it was last embedded (new,
 * edited, or embedded by another model), and per-owner in-memory indexes opened from the sealed
 * vectors at query time. Places that write items only call {@link touch}; the sweep holds the
 * owner's key ring while it runs, like a job, and stops holding it when done.
 */
export class EmbeddingService {
  readonly #open = new Map<string, Open>();
  readonly #sweeps = new Map<string, Sweep>();
  readonly #timer: NodeJS.Timeout;
  #unavailableUntil = 0;
  #closed = false;
  readonly #abort = new AbortController();
  /** A count over every owner's items: read at most every 30 s, and after this process's writes. */
  readonly #backlog = cachedReader(() => this.repo.backlog(), BACKLOG_CACHE_MS);

  constructor(
    private readonly repo: VectorsRepository,
    private readonly items: ItemsService,
    private readonly embedder: Embedder | null,
    private readonly log: FastifyBaseLogger,
    private readonly opts: EmbeddingOptions = {},
  ) {
    this.#timer = setInterval(() => this.#evictIdle(), Math.min(60_000, this.#idleMs)).unref();
  }

  get #idleMs() {
    return this.opts.idleMs ?? 600_000;
  }

  /** Whether vectors take part now: a runtime, the model present, and no recent "model not found". */
  get mode(): RetrievalMode {
    return this.embedder && Date.now() >= this.#unavailableUntil && this.embedder.present() ? 'hybrid' : 'keyword';
  }

  /** Opened indexes (for tests and metrics): owner ids. */
  openOwners(): string[] {
    return [...this.#open.keys()];
  }

  /**
   * The cheap call from places that write items (and, throttled, from any signed-in request, so
   * imports and inbox batches written in the background are picked up): starts a sweep unless
   * one runs, in which case it runs again afterwards.
   */
  touch(session: SessionContext, wrote = true): void {
    if (wrote) this.#backlog.clear();
    if (this.#closed || this.mode === 'keyword') return;
    const s = this.#sweeps.get(session.userId) ?? { running: null, again: false, lastAt: 0, failedAt: 0 };
    this.#sweeps.set(session.userId, s);
    const now = Date.now();
    if (s.running) {
      if (wrote) s.again = true;
      return;
    }
    if (now - s.failedAt < (this.opts.retryMs ?? 60_000)) return;
    if (!wrote && now - s.lastAt < (this.opts.touchEveryMs ?? 30_000)) return;
    s.lastAt = now;
    s.running = this.#sweep(session.userId, session.keys)
      .catch((err: unknown) => {
        s.failedAt = Date.now();
        s.again = false;
        if (err instanceof NoModelError) this.#unavailableUntil = Date.now() + (this.opts.retryMs ?? 60_000);
        // The message may come from the sandbox; the error class is enough to act on.
        else if (!this.#closed) this.log.warn({ err: { type: (err as Error).name } }, 'embedding sweep failed');
      })
      .finally(() => {
        s.running = null;
        if (s.again && !this.#closed) {
          s.again = false;
          this.touch(session);
        }
      });
  }

  /**
   * Live items of every owner still waiting for vectors (the `cv_backlog_items{queue="embedding"}`
   * gauge): 0 on a server with no embedding runtime, where nothing waits for one.
   */
  backlog(): Promise<number> {
    return this.embedder ? this.#backlog() : Promise.resolve(0);
  }

  /** Resolves when the owner's sweep (if any) is done: for tests and the backfill's caller. */
  async settled(userId: string): Promise<void> {
    while (this.#sweeps.get(userId)?.running) await this.#sweeps.get(userId)!.running;
  }

  async status(session: SessionContext): Promise<EmbeddingStatus> {
    const mode = this.mode;
    if (!this.embedder || mode === 'keyword') return { mode, model: null, total: 0, embedded: 0, running: false };
    const counts = await this.repo.counts(session.userId, this.#modelMac(session.keys));
    return { mode, model: this.embedder.model, ...counts, running: !!this.#sweeps.get(session.userId)?.running };
  }

  /**
   * The `k` items whose passages are nearest the question, best passage each; null when vectors
   * cannot take part (no model, or embedding the question failed): the caller ranks by BM25 alone.
   * `shared`: the chat turn's lease, to embed the question in the sandbox that will answer it.
   */
  async nearest(session: SessionContext, question: string, k: number, shared?: SharedLease): Promise<VectorHit[] | null> {
    if (!this.embedder || this.mode === 'keyword') return null;
    let query: number[];
    try {
      [query] = (await this.embedder.embed(session.userId, [question], this.#abort.signal, shared)) as [number[]];
    } catch (err) {
      if (err instanceof NoModelError) this.#unavailableUntil = Date.now() + (this.opts.retryMs ?? 60_000);
      return null;
    }
    const index = await this.#index(session);
    this.touch(session, false);
    return index.search(query, k);
  }

  /** Drops an owner's opened index (logout, lock, account deletion). */
  evict(userId: string): void {
    this.#open.delete(userId);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#abort.abort();
    clearInterval(this.#timer);
    this.#open.clear();
    await Promise.allSettled([...this.#sweeps.values()].map((s) => s.running));
  }

  #modelMac(keys: KeyRing): Buffer {
    return codec.itemVectors.blindModel(keys, this.embedder!.model);
  }

  async #index(session: SessionContext): Promise<VectorIndex> {
    const open = this.#open.get(session.userId);
    if (open) {
      open.usedAt = Date.now();
      return open.loading ?? open.index;
    }
    const index = new VectorIndex();
    const entry: Open = { index, usedAt: Date.now() };
    entry.loading = this.#load(session, index).finally(() => delete entry.loading);
    this.#open.set(session.userId, entry);
    try {
      return await entry.loading;
    } catch (err) {
      this.#open.delete(session.userId);
      throw err;
    }
  }

  async #load(session: SessionContext, index: VectorIndex): Promise<VectorIndex> {
    const mac = this.#modelMac(session.keys);
    let after: string | null = null;
    for (;;) {
      const rows = await this.repo.page(session.userId, mac, after);
      for (const r of rows) {
        index.put(r.item_id, codec.itemVectors.open(session.keys, { userId: session.userId, id: r.item_id, version: r.item_version }, r.ciphertext));
      }
      if (rows.length < LOAD_PAGE) return index;
      after = rows[rows.length - 1]!.item_id;
    }
  }

  async #sweep(userId: string, keys: KeyRing): Promise<void> {
    const embedder = this.embedder!;
    const session = { userId, keys } as SessionContext;
    const mac = this.#modelMac(keys);
    const batch = this.opts.batchItems ?? 32;
    for (;;) {
      if (this.#closed) return;
      const stale = await this.repo.stale(userId, mac, batch);
      if (stale.length === 0) return;
      const items = await this.items.getMany(
        session,
        stale.map((s) => s.id),
      );
      const plan = items.map((item) => ({ item, parts: passages(item.text) }));
      const inputs = plan.flatMap(({ item, parts }) =>
        parts.length ? parts.map((p) => passageInput(item.title, item.text, p)) : [passageInput(item.title, '', undefined)],
      );
      const vectors = await embedder.embed(userId, inputs, this.#abort.signal);
      let at = 0;
      const rows = plan.map(({ item, parts }) => {
        const chunks = (parts.length ? parts : [{ page: null, start: 0, end: 0 }]).map((p) => ({ ...p, ...quantize(vectors[at++]!) }));
        const value: ItemVectors = { dims: chunks[0]!.q.length, chunks };
        return { item, value };
      });
      await this.repo.upsert(
        userId,
        rows.map(({ item, value }) => ({
          itemId: item.id,
          itemVersion: item.version,
          modelMac: mac,
          ciphertext: codec.itemVectors.seal(keys, { userId, id: item.id, version: item.version }, value),
        })),
      );
      this.#backlog.clear();
      // A warm index takes the new vectors at once; one still loading may have passed these rows.
      const open = this.#open.get(userId);
      if (open)
        void Promise.resolve(open.loading ?? open.index).then(
          (index) => rows.forEach(({ item, value }) => index.put(item.id, value)),
          () => {},
        );
      // Items gone between the two reads (trashed) are skipped by the next round's query.
      if (items.length === 0) return;
    }
  }

  #evictIdle(): void {
    const cutoff = Date.now() - this.#idleMs;
    for (const [userId, o] of this.#open) if (o.usedAt < cutoff && !o.loading) this.#open.delete(userId);
  }
}
