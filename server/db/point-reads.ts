import type { CompiledQuery, LogEvent, QueryResult } from 'kysely';

/**
 * A point read (a lookup by primary key, answered in microseconds) run now: its result (embedded PGlite, when the instance is free), its promise
 * (PostgreSQL's pipelined connection), or undefined to take the usual way.
 */
export type DirectRead = <R>(query: CompiledQuery<R>) => QueryResult<R> | Promise<QueryResult<R>> | undefined;

const direct = new WeakMap<object, <R>(query: CompiledQuery<R>) => Promise<QueryResult<R>> | undefined>();

/**
 * Point reads on `db` itself (never inside a transaction, which is another object) go by `read`
 * instead of Kysely's executor, whose connection hand-off, driver and log wrappers cost a read
 * about twenty promises and more CPU than the lookup. `log` hears each as Kysely's would, in the
 * caller's async context, so metrics and spans count it in the request that made it.
 */
export function readPointsDirectly(db: object, read: DirectRead, log?: (event: LogEvent) => void): void {
  direct.set(db, <R>(query: CompiledQuery<R>) => {
    const started = performance.now();
    const done = (r: QueryResult<R>) => {
      log?.({ level: 'query', query, queryDurationMillis: performance.now() - started });
      return r;
    };
    const failed = (error: unknown) => {
      log?.({ level: 'error', error, query, queryDurationMillis: performance.now() - started });
      throw error;
    };
    let result: QueryResult<R> | Promise<QueryResult<R>> | undefined;
    try {
      result = read(query);
    } catch (error) {
      result = Promise.reject(error);
    }
    if (result === undefined) return undefined;
    return result instanceof Promise ? result.then(done, failed) : Promise.resolve(done(result));
  });
}

/** The point read run directly when `runner` routes them (see {@link readPointsDirectly}). */
export function directPointRead<R>(runner: object, query: CompiledQuery<R>): Promise<QueryResult<R>> | undefined {
  return direct.get(runner)?.(query);
}
