import type { PGlite } from '@electric-sql/pglite';

/**
 * Embedded PGlite runs PostgreSQL in single-user mode: there is no checkpointer, so nothing ever
 * checkpoints on its own and the write-ahead log grows without limit (a bulk import kept every
 * 16 MB segment it wrote: ~860 MB of WAL for 800 MB of rows). After its calls, the WAL written
 * since the last checkpoint is measured (at most every `checkIntervalMs`) and past
 * `checkpointEveryBytes` a CHECKPOINT runs; it recycles the old segments down to `max_wal_size`
 * (PGLITE_CONF).
 *
 * An `Aborted()` inside PGlite's WebAssembly leaves the instance dead: every later query fails.
 * Any query (the server's or the check's) that fails that way is reported once to `onFatal`, so
 * the server can exit and its supervisor restart it instead of answering 500 forever.
 */
export interface PgliteGuardOptions {
  checkpointEveryBytes: number;
  /** The WAL is measured after a statement or transaction at most this often. */
  checkIntervalMs: number;
  onFatal?: (err: Error) => void;
}

/** `RuntimeError: Aborted()` (or any other WebAssembly trap) from PGlite's module. */
export function isWasmAbort(err: unknown): err is Error {
  return err instanceof Error && err.name === 'RuntimeError';
}

/** Wraps the instance's query(), exec() and transaction() (what Kysely's PGlite driver calls). */
export function guardPglite(pglite: PGlite, opts: PgliteGuardOptions): void {
  let fatal = false;
  let checking = false;
  let lastCheck = 0;
  const original = { query: pglite.query.bind(pglite), exec: pglite.exec.bind(pglite), transaction: pglite.transaction.bind(pglite) };

  const checkpointIfDue = async () => {
    const { rows } = await original.query<{ bytes: string }>(
      'select pg_wal_lsn_diff(pg_current_wal_insert_lsn(), redo_lsn)::text as bytes from pg_control_checkpoint()',
    );
    if (Number(rows[0]!.bytes) >= opts.checkpointEveryBytes) await original.exec('checkpoint');
  };

  // Checked after the call has released PGlite (its queue runs one call at a time), so the
  // checkpoint never lands inside a transaction; busy writers make no room for a timer.
  const afterCall = async () => {
    if (checking || fatal || Date.now() - lastCheck < opts.checkIntervalMs) return;
    checking = true;
    lastCheck = Date.now();
    try {
      await checkpointIfDue();
    } catch (err) {
      // A failed check is retried later; only an abort matters.
      report(err);
    } finally {
      checking = false;
    }
  };

  const report = (err: unknown) => {
    if (fatal || !isWasmAbort(err)) return;
    fatal = true;
    opts.onFatal?.(err);
  };

  for (const name of ['query', 'exec', 'transaction'] as const) {
    const call = original[name] as (...args: unknown[]) => Promise<unknown>;
    (pglite as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      inFlight.set(pglite, (inFlight.get(pglite) ?? 0) + 1);
      try {
        let result: unknown;
        try {
          result = await call(...args);
        } catch (err) {
          report(err);
          throw err;
        }
        await afterCall();
        return result;
      } finally {
        inFlight.set(pglite, inFlight.get(pglite)! - 1);
      }
    };
  }
}

/** Calls through the wrapped query(), exec() and transaction() not finished yet, per instance. */
const inFlight = new WeakMap<PGlite, number>();

/** Whether a wrapped call is under way: PGlite then runs its messages with awaits between them. */
export const pgliteBusy = (pglite: PGlite): boolean => (inFlight.get(pglite) ?? 0) > 0;
