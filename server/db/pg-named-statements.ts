import pg from 'pg';

/** A statement text seen this often is worth keeping prepared on every connection. */
const HOT_AFTER = 3;
/**
 * At most this many statement texts get a name. Each one costs a parsed statement and its cached
 * plan on every pooled connection, so texts that vary with their input (a VALUES list per batch
 * size) must not grow that without bound; past the cap, statements run unnamed as before.
 */
const MAX_NAMED = 256;
/** Texts counted while deciding; cleared when full, so one-off texts cannot fill memory. */
const MAX_COUNTED = 4096;

/**
 * Which statement texts run as named prepared statements. Kysely hands node-postgres an unnamed
 * statement, which PostgreSQL parses, analyses and plans again on every run: for a read by
 * primary key that costs the database more CPU than executing it. A named statement is parsed
 * once per connection and, after a few runs, reuses its plan.
 */
export class StatementNames {
  readonly #names = new Map<string, string>();
  readonly #seen = new Map<string, number>();
  /** Texts whose prepared form went stale (see {@link stale}): they run unnamed from then on. */
  readonly #unnamed = new Set<string>();
  /** Never reused: a stale text's name stays prepared, under its old text, on some connections. */
  #next = 0;

  /** The name for this text, or undefined while it is not (or cannot become) hot. */
  nameFor(text: string): string | undefined {
    const known = this.#names.get(text);
    if (known !== undefined || this.#names.size >= MAX_NAMED || this.#unnamed.has(text)) return known;
    const n = (this.#seen.get(text) ?? 0) + 1;
    if (n < HOT_AFTER) {
      if (this.#seen.size >= MAX_COUNTED) this.#seen.clear();
      this.#seen.set(text, n);
      return undefined;
    }
    this.#seen.delete(text);
    const name = `cv_${this.#next++}`;
    this.#names.set(text, name);
    return name;
  }

  /**
   * PostgreSQL refused a prepared statement whose result columns changed under it (0A000,
   * "cached plan must not change result type": another instance migrated a table this text
   * selects `*` from). Its name stays taken on the connections that prepared it; the text runs
   * unnamed from now on, as Kysely would run it.
   */
  stale(text: string): void {
    this.#names.delete(text);
    this.#unnamed.add(text);
  }
}

const isStale = (err: unknown) => (err as { code?: unknown } | null)?.code === '0A000';

/**
 * A node-postgres Client class whose `query(text, values)` runs hot texts as named statements.
 * node-postgres tracks per connection which names it has parsed (and forgets one whose parse
 * failed), so a new connection prepares a name on first use.
 */
export function namedStatementClient(names: StatementNames): typeof pg.Client {
  return class NamedStatementClient extends pg.Client {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- pg's query() has many overloads; only (text, values) is rewritten
    override query(config: any, values?: any, callback?: any): any {
      const name = typeof config === 'string' && Array.isArray(values) ? names.nameFor(config) : undefined;
      if (name === undefined) return super.query(config, values, callback);
      // A Query built from the text and named afterwards: given a config object instead,
      // node-postgres copies it property by property on every run.
      const query = new pg.Query(config, values) as pg.Query & { name?: string; callback?: (err: Error | null, res: pg.QueryResult) => void };
      query.name = name;
      const retry = (err: Error | null) => {
        if (!isStale(err)) return false;
        names.stale(config);
        return true;
      };
      if (typeof callback === 'function') {
        query.callback = (err, res) => (retry(err) ? super.query(config, values, callback) : callback(err, res));
        return super.query(query);
      }
      return new Promise((resolve, reject) => {
        query.callback = (err, res) => {
          if (retry(err)) (super.query(config, values) as Promise<pg.QueryResult>).then(resolve, reject);
          else if (err) reject(err);
          else resolve(res);
        };
        super.query(query);
      });
    }
  } as typeof pg.Client;
}
