import { PostgresDialect, type CompiledQuery, type DatabaseConnection, type Driver, type QueryResult, type TransactionSettings } from 'kysely';
import type pg from 'pg';
import { isPointRead } from './point-reads.js';

/**
 * One pipelined connection (node-postgres `pipeline: true`) for point reads outside
 * transactions. Each statement on a pooled connection costs a socket write and a wake-up on
 * both sides; here the reads submitted in one turn of the event loop leave in one write (the
 * socket is corked until the turn ends) and their answers come back together.
 */
class PointReadPipe {
  #client?: Promise<pg.Client>;
  #corked = false;

  constructor(
    private readonly open: () => pg.Client,
    private readonly onError: (err: Error) => void,
  ) {}

  async execute<R>(query: CompiledQuery<R>): Promise<QueryResult<R>> {
    const client = await (this.#client ??= this.#connect());
    const stream = (client as unknown as { connection: { stream: NodeJS.WritableStream & { cork(): void; uncork(): void } } }).connection.stream;
    if (!this.#corked) {
      this.#corked = true;
      stream.cork();
      setImmediate(() => {
        this.#corked = false;
        stream.uncork();
      });
    }
    const result = await client.query<R & pg.QueryResultRow>(query.sql, query.parameters as unknown[]);
    return { rows: result.rows };
  }

  #connect(): Promise<pg.Client> {
    const client = this.open();
    const forget = () => {
      if (this.#client === connecting) this.#client = undefined;
    };
    // A broken connection is dropped (its reads fail, as a pooled one's would); the next read
    // opens another.
    client.on('error', (err) => {
      forget();
      this.onError(err);
    });
    client.on('end', forget);
    const connecting = client.connect().then(
      () => client,
      (err: unknown) => {
        forget();
        throw err;
      },
    );
    return connecting;
  }

  async end(): Promise<void> {
    const client = await this.#client?.catch(() => undefined);
    this.#client = undefined;
    await client?.end();
  }
}

/**
 * A connection handed out by {@link PointReadDriver}: point reads go to the shared pipe until
 * the connection needs a pooled one (any other statement, or a transaction), from then on
 * everything runs on that one, so a transaction sees its own writes.
 */
class LazyConnection implements DatabaseConnection {
  pooled?: DatabaseConnection;

  constructor(
    private readonly inner: Driver,
    private readonly pipe: PointReadPipe,
  ) {}

  async bind(): Promise<DatabaseConnection> {
    return (this.pooled ??= await this.inner.acquireConnection());
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (!this.pooled && isPointRead(query)) return this.pipe.execute(query as CompiledQuery<R>);
    return (await this.bind()).executeQuery<R>(query);
  }

  async *streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    yield* (await this.bind()).streamQuery<R>(query, chunkSize);
  }
}

class PointReadDriver implements Driver {
  constructor(
    private readonly inner: Driver,
    private readonly pipe: PointReadPipe,
  ) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new LazyConnection(this.inner, this.pipe);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await this.inner.beginTransaction(await (connection as LazyConnection).bind(), settings);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await this.inner.commitTransaction(await (connection as LazyConnection).bind());
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await this.inner.rollbackTransaction(await (connection as LazyConnection).bind());
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: Parameters<NonNullable<Driver['savepoint']>>[2]): Promise<void> {
    await this.inner.savepoint!(await (connection as LazyConnection).bind(), name, compile);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: Parameters<NonNullable<Driver['savepoint']>>[2]): Promise<void> {
    await this.inner.rollbackToSavepoint!(await (connection as LazyConnection).bind(), name, compile);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compile: Parameters<NonNullable<Driver['savepoint']>>[2]): Promise<void> {
    await this.inner.releaseSavepoint!(await (connection as LazyConnection).bind(), name, compile);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const pooled = (connection as LazyConnection).pooled;
    if (pooled) await this.inner.releaseConnection(pooled);
  }

  async destroy(): Promise<void> {
    await this.pipe.end();
    await this.inner.destroy();
  }
}

/**
 * Kysely's PostgreSQL dialect, with statements marked by `markPointRead` (point-reads.ts) sent over one
 * pipelined connection when they run outside a transaction (`openPipe` makes that connection's
 * client, with `pipeline: true`).
 */
export class PointReadDialect extends PostgresDialect {
  readonly #pipe: PointReadPipe;

  constructor(config: ConstructorParameters<typeof PostgresDialect>[0], openPipe: () => pg.Client, onError: (err: Error) => void) {
    super(config);
    this.#pipe = new PointReadPipe(openPipe, onError);
  }

  override createDriver(): Driver {
    return new PointReadDriver(super.createDriver(), this.#pipe);
  }

  /** A point read straight onto the pipelined connection (see readPointsDirectly). */
  readonly readNow = <R>(query: CompiledQuery<R>): Promise<QueryResult<R>> => this.#pipe.execute(query);
}
