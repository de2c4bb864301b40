import {
  AliasNode,
  DeleteQueryNode,
  InsertQueryNode,
  RawNode,
  SelectQueryNode,
  TableNode,
  UpdateQueryNode,
  type LogEvent,
  type OperationNode,
  type RootOperationNode,
} from 'kysely';
import type { PoolStats } from '../db/index.js';
import type { Metrics } from './registry.js';
import { recordQuery } from './query-spans.js';
import { errorType, tracer, tracingEnabled } from './tracing.js';

/** At most this many distinct families get their own series; the rest share `other`. */
const MAX_FAMILIES = 200;
const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * A query's statement family, `<verb> <table>` (`select items`, `insert item_versions`), read
 * from Kysely's operation tree or, for `sql` templates, from their static text (never the
 * parameters): the label of the query-time histogram and the name of the query's span.
 */
export function queryFamily(node: RootOperationNode | OperationNode): string {
  if (SelectQueryNode.is(node)) return `select ${node.from?.froms.length ? tableName(node.from.froms[0]) : 'none'}`;
  if (InsertQueryNode.is(node)) return `insert ${tableName(node.into)}`;
  if (UpdateQueryNode.is(node)) return `update ${tableName(node.table)}`;
  if (DeleteQueryNode.is(node)) return `delete ${tableName(node.from.froms[0])}`;
  if (RawNode.is(node)) return rawFamily(node.sqlFragments.join(' ? '));
  return node.kind.replace(/Node$/, '').toLowerCase();
}

function tableName(node: OperationNode | undefined): string {
  if (!node) return 'unknown';
  if (AliasNode.is(node)) return tableName(node.node);
  if (TableNode.is(node)) {
    const name = node.table.identifier.name;
    return IDENT.test(name) ? name : 'unknown';
  }
  return 'subquery';
}

const RAW_VERB = /^\s*(?:\/\*.*?\*\/\s*)?(select|insert|update|delete|with|begin|commit|rollback|analyze|vacuum|set|create|drop|alter|checkpoint)\b/i;
const RAW_TABLE = /\b(?:from|into|update|analyze|table)\s+"?([a-z_][a-z0-9_]*)"?/i;

const CTE_VERB = /\(\s*(select|insert|update|delete)\b/i;

function rawFamily(text: string): string {
  let verb = RAW_VERB.exec(text)?.[1]?.toLowerCase() ?? 'raw';
  // `with x as (insert into t ...)`: the statement's work is the first inner verb.
  if (verb === 'with') verb = CTE_VERB.exec(text)?.[1]?.toLowerCase() ?? verb;
  const table = RAW_TABLE.exec(text)?.[1]?.toLowerCase();
  return table && IDENT.test(table) ? `${verb} ${table}` : verb;
}

/**
 * Kysely's log hook as query metrics and spans: time by statement family, errors by family, and
 * (tracing on) a span per family per request or job step (query-spans.ts). The hook runs in the
 * caller's async context, so the query is counted in the request or job that made it.
 */
export class QueryObserver {
  readonly #families = new Set<string>();
  readonly #seconds;
  readonly #errors;

  constructor(metrics: Metrics) {
    this.#seconds = metrics.histogram({
      name: 'cv_db_query_duration_seconds',
      help: 'Database query time by statement family (verb and table, never values).',
      labelNames: ['family'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    });
    this.#errors = metrics.counter({ name: 'cv_db_query_errors_total', help: 'Database queries that failed, by statement family.', labelNames: ['family'] });
  }

  /** Pool gauges read at scrape time. */
  observePool(stats: () => PoolStats | undefined, metrics: Metrics): void {
    const read = (f: (s: PoolStats) => number) =>
      function (this: { set(v: number): void }) {
        const s = stats();
        if (s) this.set(f(s));
      };
    metrics.gauge({ name: 'cv_db_pool_size', help: 'Database connections the pool may open (embedded PGlite: 1).', collect: read((s) => s.size) });
    metrics.gauge({ name: 'cv_db_pool_in_use', help: 'Database connections checked out now.', collect: read((s) => s.inUse) });
    metrics.gauge({ name: 'cv_db_pool_waiting', help: 'Queries waiting for a database connection.', collect: read((s) => s.waiting) });
  }

  readonly log = (event: LogEvent): void => {
    const family = this.#label(queryFamily(event.query.query));
    const seconds = event.queryDurationMillis / 1000;
    this.#seconds.observe({ family }, seconds);
    if (event.level === 'error') this.#errors.inc({ family });
    if (!tracingEnabled()) return;
    recordQuery(
      tracer(),
      family,
      Date.now() - event.queryDurationMillis,
      event.queryDurationMillis,
      event.level === 'error' ? errorType(event.error) : undefined,
    );
  };

  #label(family: string): string {
    if (this.#families.has(family)) return family;
    if (this.#families.size >= MAX_FAMILIES) family = 'other';
    this.#families.add(family);
    // Each family's error count exists from its first query on, so a rate reads 0, not nothing.
    this.#errors.inc({ family }, 0);
    return family;
  }
}
