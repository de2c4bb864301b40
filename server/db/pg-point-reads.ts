import { PostgresDialect, type CompiledQuery, type Driver, type QueryResult } from 'kysely';
import type pg from 'pg';

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
 * Kysely's PostgreSQL dialect plus the pipelined connection point reads go to
 * (`readPointsDirectly`, point-reads.ts: they never reach Kysely's driver). `openPipe` makes that
 * connection's client, with `pipeline: true`; it closes with the database.
 */
export class PointReadDialect extends PostgresDialect {
  readonly #pipe: PointReadPipe;

  constructor(config: ConstructorParameters<typeof PostgresDialect>[0], openPipe: () => pg.Client, onError: (err: Error) => void) {
    super(config);
    this.#pipe = new PointReadPipe(openPipe, onError);
  }

  override createDriver(): Driver {
    const driver = super.createDriver();
    const destroy = driver.destroy.bind(driver);
    driver.destroy = async () => {
      await this.#pipe.end();
      await destroy();
    };
    return driver;
  }

  /** A point read on the pipelined connection (see readPointsDirectly). */
  readonly readNow = <R>(query: CompiledQuery<R>): Promise<QueryResult<R>> => this.#pipe.execute(query);
}
