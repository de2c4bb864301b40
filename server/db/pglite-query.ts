import { protocol, type PGlite } from '@electric-sql/pglite';
// node-postgres's own value preparation: the same text a query's parameters become on PostgreSQL.
import pgUtils from 'pg/lib/utils.js';
import { bindMessage, readReply, resultFormats, type ResultField } from './pglite-wire.js';

const { serialize } = protocol;
const { prepareValue } = pgUtils;
const SYNC = serialize.sync();
const DESCRIBE_PORTAL = serialize.describe({ type: 'P' });
const EXECUTE = serialize.execute({});

export interface PipelinedResult<R> {
  rows: R[];
  /** Rows inserted, updated, deleted, copied or merged, as PGlite's own `query` counts them. */
  affectedRows: number;
}

/** Statements kept prepared; a vault's queries are a few hundred shapes, an import's fewer. */
const MAX_PREPARED = 256;

/**
 * Statements through PGlite's WebAssembly in one extended-protocol round each: Parse and
 * Describe (only the first time a statement is seen: its result's columns are kept with it),
 * Bind, Execute and Sync in one buffer, the reply read by {@link readReply}. PGlite's own
 * `query` sends each message in a call of its own, after asking the server (Describe statement)
 * for the parameters' types, and parses and plans the text every time: six trips through the
 * WebAssembly boundary per statement, on the server's only JavaScript thread, and planning that
 * asks each relation's size of PGlite's file system (an `fstat` in JavaScript per relation).
 * Prepared statements are PostgreSQL's own: their plans are invalidated by ANALYZE and schema
 * changes, and a statement whose parameters change its best plan keeps getting custom plans.
 *
 * Parameters are prepared as node-postgres prepares them (the server infers their types from the
 * statement, as on PostgreSQL; bytes go as binary), so a statement means the same on both
 * databases. Column values are parsed by the instance's parsers, as PGlite's own `query` does,
 * except bytea on a prepared statement's later rounds: read as binary, into Buffers
 * (see `resultFormats` in pglite-wire.ts).
 */
export class PGliteStatements {
  readonly #pglite: PGlite;
  /** SQL text to its statement's name, result columns and their formats, least recently used first. */
  readonly #prepared = new Map<string, Prepared>();
  /** Statements to close with the next message: evicted, or perhaps left by a failed round. */
  #toClose: string[] = [];
  #next = 0;

  constructor(pglite: PGlite) {
    this.#pglite = pglite;
  }

  /**
   * `inTransaction`: the caller's PGlite transaction holds the instance, so only the query lock
   * is taken; outside one, the transaction lock too, so nothing runs inside someone else's.
   */
  async query<R>(sql: string, params: readonly unknown[], inTransaction: boolean): Promise<PipelinedResult<R>> {
    const values = params.map((v) => prepareValue(v) as string | Buffer | null);
    const run = () => this.#pglite._runExclusiveQuery(() => this.#round<R>(sql, values));
    const result = inTransaction ? await run() : await this.#pglite._runExclusiveTransaction(run);
    if (!inTransaction) await this.#pglite.syncToFs();
    return result;
  }

  /**
   * A read run right now, in this turn of the event loop, for a caller that knows nothing else
   * is using the instance (no connection handed out, no transaction open): PGlite's
   * WebAssembly answers synchronously, so the round needs none of the queue's promises, and a
   * read writes nothing to sync. Throws the statement's error like {@link query}; undefined when
   * the instance itself failed (the caller then runs it through {@link query}, which reports it).
   */
  readNow<R>(sql: string, params: readonly unknown[]): PipelinedResult<R> | undefined {
    const round = this.#start(
      sql,
      params.map((v) => prepareValue(v) as string | Buffer | null),
    );
    const chunks: Buffer[] = [];
    // The exchange does all its work before its first await (it has none): when the call
    // returns, the reply is in `chunks`, or the call threw, which only its promise says.
    this.#exchange(round, chunks).catch(() => {});
    if (!chunks.length) {
      this.#toClose.push(round.name);
      return undefined;
    }
    try {
      return this.#finish<R>(sql, round, chunks);
    } catch (error) {
      // A stale prepared statement: the queue's round parses it again.
      if (isStalePlan(round, error)) return undefined;
      throw error;
    }
  }

  /** Prepared statements open now (tests). */
  get size(): number {
    return this.#prepared.size;
  }

  async #round<R>(sql: string, values: Array<string | Buffer | null>, retried = false): Promise<PipelinedResult<R>> {
    const round = this.#start(sql, values);
    const chunks: Buffer[] = [];
    try {
      await this.#exchange(round, chunks);
    } catch (error) {
      this.#toClose.push(round.name);
      throw error;
    }
    try {
      return this.#finish<R>(sql, round, chunks);
    } catch (error) {
      if (!retried && isStalePlan(round, error)) return this.#round(sql, values, true);
      throw error;
    }
  }

  /** The round's messages through the WebAssembly, its reply into `chunks`. */
  #exchange(round: Round, chunks: Buffer[]): Promise<void> {
    // The chunks are views of the WebAssembly memory, reused by the next round: copied here.
    return this.#pglite.execProtocolRawStream(round.message, { syncToFs: false, onRawData: (c) => chunks.push(Buffer.from(c)) });
  }

  /** A round's messages: Parse and Describe only for a statement not prepared yet. */
  #start(sql: string, values: Array<string | Buffer | null>): Round {
    const cached = this.#prepared.get(sql);
    const name = cached?.name ?? `cv_${this.#next++}`;
    const parts: Uint8Array[] = this.#toClose.map((n) => serialize.close({ type: 'S', name: n }));
    this.#toClose = [];
    // Taken out while it runs, and put back (as most recently used) once it succeeded.
    this.#prepared.delete(sql);
    if (cached === undefined) parts.push(serialize.parse({ name, text: sql }));
    // Result formats need the columns, known from the first round on (which reads all as text).
    parts.push(bindMessage(name, values, cached?.formats));
    if (cached === undefined) parts.push(DESCRIBE_PORTAL);
    parts.push(EXECUTE, SYNC);
    return { name, cached, message: concat(parts) };
  }

  /** Reads the reply; the statement is kept prepared if it succeeded, closed next time if not. */
  #finish<R>(sql: string, round: Round, chunks: Buffer[]): PipelinedResult<R> {
    try {
      const reply = readReply<R>(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), round.cached?.fields, this.#pglite.parsers, round.cached?.formats);
      this.#prepared.set(sql, round.cached ?? { name: round.name, fields: reply.fields, formats: resultFormats(reply.fields) });
      if (this.#prepared.size > MAX_PREPARED) {
        const [oldest, old] = this.#prepared.entries().next().value!;
        this.#prepared.delete(oldest);
        this.#toClose.push(old.name);
      }
      return { rows: reply.rows, affectedRows: reply.affectedRows };
    } catch (error) {
      // Parse may have succeeded before a later message failed: close the name next time.
      this.#toClose.push(round.name);
      throw error;
    }
  }
}

/** 0A000 on a prepared statement: a schema change made its result type stale; parse it again. */
function isStalePlan(round: Round, error: unknown): boolean {
  return round.cached !== undefined && !!error && typeof error === 'object' && 'code' in error && error.code === '0A000';
}

interface Prepared {
  name: string;
  fields: ResultField[] | undefined;
  formats: number[] | undefined;
}

interface Round {
  name: string;
  cached: Prepared | undefined;
  message: Uint8Array;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
