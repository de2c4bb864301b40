import { sql } from 'kysely';
import type { Database } from './index.js';

/**
 * The tables whose plans depend on how many rows a user has (the vault, its tags and postings),
 * and a VACUUM of the postings: it marks their pages all-visible, which lets a search read them
 * from the lookup index alone (migration 0028), and reclaims the postings of re-indexed items.
 * VACUUM visits only pages changed since the last one, so each costs about what was written.
 */
const STEPS = [
  sql`analyze vault_items`,
  sql`analyze item_tags`,
  sql`analyze tags`,
  sql`vacuum search_terms`,
  sql`analyze search_terms`,
  sql`analyze series_chunks`,
];

export interface PlannerStatsOptions {
  /** Told about a failed ANALYZE; nothing else depends on it succeeding. */
  onError: (err: unknown) => void;
  /** At most one ANALYZE this often; a threshold crossed sooner is served at the end of it. */
  minIntervalMs?: number;
}

/**
 * Keeps the planner's statistics current as vaults grow. Embedded PGlite runs no autovacuum, so
 * without this nothing ever analyzes rows written since start-up (the plans then assume empty
 * tables) or vacuums the postings; PostgreSQL's autovacuum does, but up to a minute late. The rule is autovacuum's own:
 * ANALYZE once the items written since the last one exceed 50 + 10 % of the items counted then.
 * ANALYZE samples a bounded number of rows, so each costs about the same at any size, and the
 * 10 % rule keeps them logarithmic in the number of items written. It runs in the background,
 * a table at a time: no request waits for it, and none waits behind more than one table's.
 */
export class PlannerStats {
  readonly #db: Database;
  readonly #onError: (err: unknown) => void;
  readonly #minIntervalMs: number;
  #changed = 0;
  #rowsAtLast = 0;
  #lastAt = 0;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #closed = false;
  #runs = 0;

  /** ANALYZE runs started so far (tests observe the threshold through it). */
  get runs(): number {
    return this.#runs;
  }

  constructor(db: Database, opts: PlannerStatsOptions) {
    this.#db = db;
    this.#onError = opts.onError;
    this.#minIntervalMs = opts.minIntervalMs ?? 5_000;
  }

  /** Records `rows` items written (created, re-indexed, trashed or restored). */
  noteWrites(rows: number): void {
    this.#changed += rows;
    if (this.#over()) this.#schedule();
  }

  /** Analyzes now (or joins the run in progress); never rejects. */
  analyze(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#running ??= this.#run().finally(() => {
      this.#running = null;
      // Writes that arrived during this run may already be past the next threshold.
      if (this.#over()) this.#schedule();
    });
    return this.#running;
  }

  /** Resolves once no ANALYZE is running or waiting (tests; shutdown). */
  async settled(): Promise<void> {
    while (this.#running || this.#timer) {
      if (this.#timer) await this.analyze();
      else await this.#running;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  #schedule(): void {
    if (this.#closed || this.#timer || this.#running) return;
    const wait = Math.max(0, this.#lastAt + this.#minIntervalMs - Date.now());
    this.#timer = setTimeout(() => void this.analyze(), wait);
    this.#timer.unref();
  }

  async #run(): Promise<void> {
    if (this.#closed) return;
    this.#runs++;
    // Counted as done even if it fails, so a failing ANALYZE is not retried in a loop.
    this.#changed = 0;
    try {
      // One table per statement, yielding between them: on PGlite a statement holds the server's
      // only thread, and queries waiting for it run in the gaps (see migration 0028 for the cost
      // of each).
      for (const step of STEPS) {
        if (this.#closed) return;
        await step.execute(this.#db);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      const r = await sql<{ rows: number }>`select reltuples::float8 as rows from pg_class where relname = 'vault_items'`.execute(this.#db);
      this.#rowsAtLast = Math.max(0, Number(r.rows[0]?.rows ?? 0));
    } catch (err) {
      this.#onError(err);
    } finally {
      this.#lastAt = Date.now();
    }
  }

  #over(): boolean {
    return this.#changed > 50 + 0.1 * this.#rowsAtLast;
  }
}
