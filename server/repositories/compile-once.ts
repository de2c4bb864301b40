import { createQueryId, type Compilable, type CompiledQuery, type QueryResult } from 'kysely';
import { directPointRead } from '../db/point-reads.js';

/** What can run a compiled query: the database or a transaction. */
export interface QueryRunner {
  executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
}

/**
 * A statement built and compiled by Kysely once, then run with new parameter values. Building a
 * query (immutable nodes, frozen at every step) and compiling it cost a hot statement, such as
 * one item by id, about as much CPU as the database's answer; the SQL text never changes, only
 * the values do. `build` receives a placeholder for each parameter and must use each as a
 * value exactly where the caller's value goes (never to decide the query's shape). `pointRead`:
 * a lookup by primary key, run without Kysely's executor outside transactions (point-reads.ts).
 */
export function compileOnce<A extends readonly unknown[], R>(
  arity: A['length'],
  build: (...params: A) => Compilable<R>,
  opts: { pointRead?: boolean } = {},
): (runner: QueryRunner, ...args: A) => Promise<QueryResult<R>> {
  let compiled: { query: CompiledQuery<R>; slots: Array<{ arg: number } | { value: unknown }> } | undefined;
  const compile = () => {
    const marks = Array.from({ length: arity }, (_, i) => `\u0000compile-once-${i}`);
    const query = build(...(marks as unknown as A)).compile();
    const slots = query.parameters.map((p) => (typeof p === 'string' && marks.includes(p) ? { arg: marks.indexOf(p) } : { value: p }));
    for (let i = 0; i < arity; i++) {
      if (!slots.some((s) => 'arg' in s && s.arg === i)) throw new Error(`compileOnce: parameter ${i} is not used as a value`);
    }
    return { query, slots };
  };
  return (runner, ...args) => {
    compiled ??= compile();
    const parameters = compiled.slots.map((s) => ('arg' in s ? args[s.arg] : s.value));
    // A fresh id per run: plugins and logs key a run's state by it.
    const query: CompiledQuery<R> = { ...compiled.query, parameters, queryId: createQueryId() };
    return (opts.pointRead && directPointRead(runner, query)) || runner.executeQuery<R>(query);
  };
}

/**
 * {@link compileOnce} for a statement whose shape depends on its input (how many values a list
 * holds, which filters are set): one compiled statement per shape, for at most `maxShapes`
 * shapes; a run of any further shape is built and compiled for that run alone. `build` receives
 * the shape and a placeholder for each value, and must decide the statement's text from the
 * shape alone.
 */
export function compilePerShape<R>(
  maxShapes: number,
  build: (shape: string, params: readonly unknown[]) => Compilable<R>,
): (runner: QueryRunner, shape: string, params: readonly unknown[]) => Promise<QueryResult<R>> {
  const shapes = new Map<string, (runner: QueryRunner, ...args: unknown[]) => Promise<QueryResult<R>>>();
  return (runner, shape, params) => {
    let run = shapes.get(shape);
    if (!run) {
      if (shapes.size >= maxShapes) return runner.executeQuery(build(shape, params).compile());
      run = compileOnce(params.length, (...placeholders: unknown[]) => build(shape, placeholders));
      shapes.set(shape, run);
    }
    return run(runner, ...params);
  };
}
