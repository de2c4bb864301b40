import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { hasCjk } from '../../crypto/index.js';
import * as codec from '../codec/index.js';
import type { JobContext, JobRunner } from '../jobs/runner.js';
import type { JobsRepository } from '../repositories/jobs.repository.js';
import {
  CURRENT_VAULT_FORMAT,
  type ReindexedItem,
  type UpgradedItem,
  type UpgradeRow,
  type VaultUpgradeRepository,
} from '../repositories/vault-upgrade.repository.js';
import type { ItemsService } from './items.service.js';
import type { SessionContext } from './keyring.js';
import type { SeriesService } from './series.service.js';

export const UPGRADE_JOB = 'vault_upgrade';
/** Items re-sealed per transaction: small enough that a batch is a short lock, large enough to amortise a round trip. */
const BATCH = 500;

/**
 * Moves a vault to the current format the first time its owner unlocks (the server cannot compute
 * their MACs, seal or index for them without their keys).
 * - From format 1 (written before migration 0011): items are re-sealed with their type code
 *   inside, stored under the code's MAC and re-indexed with today's tokenizer; series rows move
 *   onto their types' MACs; old job outcomes are sealed. Reads keep working meanwhile because
 *   every lookup also matches the clear legacy columns.
 * - From format 2 (before 0030): items holding Han, kana or Hangul are re-indexed, so their runs
 *   are searched by characters and pairs of characters; nothing else changes.
 * It runs as a job with progress and resumes after a restart (every step is idempotent and skips
 * or redoes harmlessly what is done).
 */
export class VaultUpgradeService {
  /** Users known to be on the current format, so a request costs no query after the first. */
  readonly #current = new Set<string>();
  readonly #checking = new Map<string, Promise<void>>();

  constructor(
    private readonly repo: VaultUpgradeRepository,
    private readonly jobs: JobsRepository,
    private readonly runner: JobRunner,
    private readonly items: ItemsService,
    private readonly series: SeriesService,
    private readonly log: FastifyBaseLogger,
    private readonly opts: { batch: number } = { batch: BATCH },
  ) {
    runner.register(UPGRADE_JOB, { run: (ctx) => this.run(ctx) });
  }

  /** Called on every signed-in request: starts the owner's upgrade once, if their vault needs one (undefined, no promise, once it is known current). */
  ensure(session: SessionContext): Promise<void> | undefined {
    if (this.#current.has(session.userId)) return undefined;
    let p = this.#checking.get(session.userId);
    if (!p) {
      p = this.#start(session)
        .catch((err: Error) => this.log.warn({ err: { name: err.name } }, 'could not start the vault upgrade'))
        .finally(() => this.#checking.delete(session.userId));
      this.#checking.set(session.userId, p);
    }
    return p;
  }

  async #start(session: SessionContext): Promise<void> {
    // An upgrade under way (or interrupted, resumed by the runner's resumeFor) is never started
    // twice. Asked before the format: the job marks the vault current before it stops being
    // active, so a format read after this finds the mark; read first, it could be stale by the
    // time no job is active, and a second, empty job would start.
    if (await this.jobs.activeOfKind(session.userId, UPGRADE_JOB)) return;
    const format = await this.repo.format(session.userId);
    if (format === undefined) return;
    if (format >= CURRENT_VAULT_FORMAT) {
      this.#current.add(session.userId);
      return;
    }
    const id = randomUUID();
    const total = await this.#total(session.userId, format);
    await this.jobs.insert({ id, userId: session.userId, kind: UPGRADE_JOB, progress: { done: 0, total, unit: 'records' }, inputRef: null, inputFormat: null });
    this.runner.submit({ id, userId: session.userId }, session.keys);
  }

  /** Rows the job will go through: format 1 re-seals the legacy rows, format 2 reads every item. */
  async #total(userId: string, format: number): Promise<number> {
    return format < 2 ? this.repo.countPending(userId) : this.repo.countAll(userId);
  }

  /** The job: items in id order, then series, then old job outcomes, then the format mark. */
  async run(ctx: JobContext): Promise<void> {
    const format = (await this.repo.format(ctx.session.userId)) ?? CURRENT_VAULT_FORMAT;
    if (format === 2) await this.#reindexCjk(ctx);
    else if (format < 2) await this.#upgradeLegacy(ctx);
    await this.repo.markUpgraded(ctx.session.userId);
    this.#current.add(ctx.session.userId);
  }

  /**
   * Re-indexes the items whose title, text or tags hold Han, kana or Hangul (format 2 indexed each
   * run as one token). Every item is opened to find them: the server cannot tell them apart.
   */
  async #reindexCjk(ctx: JobContext): Promise<void> {
    const { userId, keys } = ctx.session;
    let reindexed = 0;
    await this.#eachItem<ReindexedItem>(
      ctx,
      await this.repo.countAll(userId),
      (after) => this.repo.page(userId, after, this.opts.batch),
      (row, payload) => {
        if (!hasCjk(payload.title) && !hasCjk(payload.text) && !payload.tags.some(hasCjk)) return undefined;
        const { terms, count } = this.items.terms(keys, payload);
        return { id: row.id, expectedVersion: row.version, termCount: count, terms };
      },
      async (out) => void (reindexed += await this.repo.reindex(userId, out)),
    );
    if (reindexed) ctx.count('items re-indexed', reindexed);
  }

  async #upgradeLegacy(ctx: JobContext): Promise<void> {
    const { session } = ctx;
    const { userId, keys } = session;
    const { done, unreadable } = await this.#eachItem<UpgradedItem>(
      ctx,
      await this.repo.countPending(userId),
      (after) => this.repo.pending(userId, after, this.opts.batch),
      (row, payload) => {
        payload.type = payload.type ?? null;
        const version = row.version + 1;
        const { terms, count } = this.items.terms(keys, payload);
        return {
          id: row.id,
          expectedVersion: row.version,
          version,
          ciphertext: this.items.seal(keys, userId, row.id, version, payload),
          typeMac: codec.item.blindType(keys, payload.type),
          termCount: count,
          terms,
        };
      },
      (out) => this.repo.apply(userId, out),
    );
    if (unreadable) ctx.count('items that could not be read', unreadable);
    await this.series.upgrade(session);
    for (const job of await this.jobs.legacy(userId)) {
      const outcome: codec.JobOutcome = {};
      const imported = (job.legacy_result as { imported?: Record<string, number> } | null)?.imported;
      if (imported) outcome.imported = imported;
      if (job.legacy_error) outcome.error = job.legacy_error;
      await this.jobs.sealLegacy(userId, job.id, codec.jobOutcome.seal(keys, { userId, id: job.id, version: 1 }, outcome));
    }
    ctx.count('items upgraded', done - unreadable);
  }

  /**
   * Reads items a batch at a time in id order (`next` pages after the last id), opens each, and
   * writes what `change` makes of it (undefined: leave the row). A row that does not open
   * (tampered) keeps its old form and the job goes on.
   */
  async #eachItem<T>(
    ctx: JobContext,
    total: number,
    next: (after: string | null) => Promise<UpgradeRow[]>,
    change: (row: UpgradeRow, payload: codec.ItemPayload) => T | undefined,
    write: (out: T[]) => Promise<unknown>,
  ): Promise<{ done: number; unreadable: number }> {
    let done = 0;
    let unreadable = 0;
    let after: string | null = null;
    ctx.progress({ done, total, unit: 'records' });
    for (;;) {
      ctx.signal.throwIfAborted();
      const rows = await next(after);
      if (rows.length === 0) break;
      after = rows[rows.length - 1]!.id;
      const out: T[] = [];
      for (const row of rows) {
        let payload: codec.ItemPayload;
        try {
          payload = this.items.open(ctx.session.keys, row);
        } catch (err) {
          if ((err as Error)?.name !== 'DecryptError') throw err;
          unreadable++;
          continue;
        }
        const changed = change(row, payload);
        if (changed !== undefined) out.push(changed);
      }
      await write(out);
      done += rows.length;
      ctx.progress({ done: Math.min(done, total), total, unit: 'records' });
    }
    return { done, unreadable };
  }
}
