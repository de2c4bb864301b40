import type { PGlite, Transaction } from '@electric-sql/pglite';
import { ConnectionLock } from './connection-lock.js';
import { pgliteBusy } from './pglite-guard.js';
import { PGliteStatements } from './pglite-query.js';
import {
  AbortedTransactionError,
  IdentifierNode,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  RawNode,
  createQueryId,
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';

/**
 * Kysely over embedded PGlite. Kysely 0.29 ships this dialect but declares Node >= 22; this is
 * its PGliteDialect (kysely/dist/dialect/pglite) carried over to 0.28, which supports the Node
 * versions we promise. Two differences follow from 0.28's API: 0.29's Kysely serialises
 * connection use when the adapter says it has one connection, 0.28 leaves that to the driver,
 * so the driver holds a mutex from acquire to release (as 0.28's SQLite driver does); and 0.28's
 * driver API has no abort signal. Delete this file when the project's Node floor reaches 22.
 */
export class PGliteDialect implements Dialect {
  #driver: PGliteDriver | undefined;

  constructor(private readonly config: { pglite: PGlite }) {}

  /** The one connection as a pool of one, for the pool gauges. */
  stats(): { size: number; inUse: number; waiting: number } {
    return { size: 1, ...(this.#driver?.stats() ?? { inUse: 0, waiting: 0 }) };
  }

  createAdapter() {
    return new PGliteAdapter();
  }

  /** A point read run now when the one connection is free (see readPointsDirectly). */
  readonly readNow = <R>(query: CompiledQuery<R>): QueryResult<R> | undefined => this.#driver?.readNow(query);

  createDriver(): Driver {
    this.#driver = new PGliteDriver(this.config.pglite);
    return this.#driver;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely's Dialect signature
  createIntrospector(db: Kysely<any>) {
    return new PostgresIntrospector(db);
  }

  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
}

class PGliteAdapter extends PostgresAdapter {
  // PGlite has one connection, and the migrator holds it from acquiring the lock to releasing
  // it, so no advisory lock is needed (and none could be taken from a second connection).
  override async acquireMigrationLock(): Promise<void> {}
  override async releaseMigrationLock(): Promise<void> {}
}

type Compile = QueryCompiler['compileQuery'];

class PGliteDriver implements Driver {
  readonly #pglite: PGlite;
  readonly #lock = new ConnectionLock();
  #connection: PGliteConnection | undefined;

  constructor(pglite: PGlite) {
    this.#pglite = pglite;
  }

  async init(): Promise<void> {
    if (this.#pglite.closed) throw new Error('PGlite instance is already closed.');
    if (!this.#pglite.ready) await this.#pglite.waitReady;
    this.#connection = new PGliteConnection(this.#pglite);
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    // One connection: a second caller waits until the first (a whole transaction included)
    // releases it, or its queries would run inside the other's transaction.
    await this.#lock.lock();
    return this.#connection!;
  }

  async releaseConnection(): Promise<void> {
    this.#lock.unlock();
  }

  stats(): { inUse: number; waiting: number } {
    return this.#lock.stats();
  }

  /**
   * Runs a read now if nobody holds the connection (so no transaction is open and no statement
   * is half-way through PGlite's queue) and the instance is not busy with the guard's own calls:
   * then nothing can interleave with it, since it finishes before this turn of the event loop
   * ends.
   */
  readNow<R>(query: CompiledQuery<R>): QueryResult<R> | undefined {
    if (this.#lock.stats().inUse || !this.#connection || pgliteBusy(this.#pglite)) return undefined;
    return this.#connection.readNow(query);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as PGliteConnection).begin();
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as PGliteConnection).commit();
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as PGliteConnection).rollback();
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: Compile): Promise<void> {
    await connection.executeQuery(compile(savepointCommand('savepoint', name), createQueryId()));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: Compile): Promise<void> {
    await connection.executeQuery(compile(savepointCommand('rollback to', name), createQueryId()));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compile: Compile): Promise<void> {
    await connection.executeQuery(compile(savepointCommand('release', name), createQueryId()));
  }

  async destroy(): Promise<void> {
    if (!this.#pglite.closed) await this.#pglite.close();
  }
}

/** The identifier node quotes the savepoint name, as Kysely's own drivers do. */
function savepointCommand(command: string, name: string) {
  return RawNode.createWithChildren([RawNode.createWithSql(`${command} `), IdentifierNode.create(name)]);
}

class PGliteConnection implements DatabaseConnection {
  readonly #pglite: PGlite;
  readonly #statements: PGliteStatements;
  #transaction: Transaction | undefined;
  #commit: (() => void) | undefined;
  #rollback: ((reason?: unknown) => void) | undefined;
  #closed: Promise<void> | undefined;

  constructor(pglite: PGlite) {
    this.#pglite = pglite;
    this.#statements = new PGliteStatements(pglite);
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    try {
      const { affectedRows, rows } = await this.#statements.query<R>(query.sql, query.parameters, this.#transaction !== undefined);
      return { numAffectedRows: BigInt(affectedRows), rows };
    } catch (error) {
      throw extendStack(error, new Error());
    }
  }

  readNow<R>(query: CompiledQuery<R>): QueryResult<R> | undefined {
    if (this.#transaction) return undefined;
    try {
      const result = this.#statements.readNow<R>(query.sql, query.parameters);
      return result && { rows: result.rows };
    } catch (error) {
      throw extendStack(error, new Error());
    }
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('Streaming is not supported by PGlite.');
  }

  /**
   * PGlite's own transaction() holds its exclusive lock, so nothing else using the instance
   * runs inside ours; the callback stays open until Kysely commits or rolls back.
   */
  async begin(): Promise<void> {
    const decided = new Promise<void>((resolve, reject) => {
      this.#commit = resolve;
      this.#rollback = reject;
    });
    let begun!: () => void;
    const started = new Promise<void>((resolve) => (begun = resolve));
    this.#closed = this.#pglite.transaction(async (tx) => {
      this.#transaction = tx;
      begun();
      await decided;
    });
    // A failed BEGIN rejects #closed before `started` resolves: surface it instead of hanging.
    await Promise.race([started, this.#closed]);
  }

  async commit(): Promise<void> {
    this.#commit?.();
    try {
      await this.#closed;
    } catch (error) {
      // 25P02: an earlier statement failed, so PostgreSQL turned the COMMIT into a rollback.
      if (error && typeof error === 'object' && 'code' in error && error.code === '25P02') {
        throw Object.assign(new AbortedTransactionError(), { cause: error });
      }
      throw error;
    } finally {
      this.#reset();
    }
  }

  async rollback(): Promise<void> {
    this.#rollback?.(new Error('rollback'));
    await this.#closed?.catch(() => {});
    this.#reset();
  }

  #reset(): void {
    this.#commit = this.#rollback = undefined;
    this.#transaction = undefined;
    this.#closed = undefined;
  }
}

/** Appends the caller's stack: PGlite's own ends inside its query queue, far from the query. */
function extendStack(error: unknown, stackError: Error): unknown {
  if (error instanceof Error && stackError.stack) {
    const tail = stackError.stack.split('\n').slice(1).join('\n');
    error.stack += `\n${tail}`;
  }
  return error;
}
