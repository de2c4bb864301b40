import { parse, protocol, type PGlite } from '@electric-sql/pglite';
// node-postgres's own value preparation: the same text a query's parameters become on PostgreSQL.
import pgUtils from 'pg/lib/utils.js';

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

/**
 * One extended-protocol round through PGlite's WebAssembly for a whole statement: Parse, Bind,
 * Describe, Execute and Sync in one buffer. PGlite's own `query` sends each message in a call of
 * its own, after asking the server (Describe statement) for the parameters' types, six trips
 * through the WebAssembly boundary per statement, on the server's only JavaScript thread.
 * Parameters are prepared as node-postgres prepares them (the server infers their types from the
 * statement, as on PostgreSQL; bytes go as binary), so one statement means the same on both
 * databases. Rows are parsed by PGlite's own code, with the instance's parsers.
 *
 * `inTransaction`: the caller's PGlite transaction holds the instance, so only the query lock is
 * taken; outside one, the transaction lock too, so nothing runs inside someone else's.
 */
export async function pipelinedQuery<R>(pglite: PGlite, sql: string, params: readonly unknown[], inTransaction: boolean): Promise<PipelinedResult<R>> {
  const message = concat([serialize.parse({ text: sql }), serialize.bind({ values: params.map((v) => prepareValue(v)) }), DESCRIBE_PORTAL, EXECUTE, SYNC]);
  const run = () => pglite._runExclusiveQuery(() => pglite.execProtocolStream(message, { syncToFs: false }));
  const messages = inTransaction ? await run() : await pglite._runExclusiveTransaction(run);
  if (!inTransaction) await pglite.syncToFs();
  const result = parse.parseResults(messages, pglite.parsers, { rowMode: 'object' })[0]!;
  return { rows: result.rows as R[], affectedRows: result.affectedRows ?? 0 };
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
