import type { FastifySchemaCompiler } from 'fastify';
import { validatorCompiler as zodValidatorCompiler } from 'fastify-type-provider-zod';
import { badRequest } from '../errors.js';

const NUL = '\u0000';

/**
 * How deep a request's JSON may nest. Real bodies nest a few levels (an item's free-form `data`
 * perhaps ten); a 1 MiB body of `[[[…]]]` nests ~500,000, deeper than code that walks a value
 * recursively (JSON.stringify when a record is sealed, for one) can follow.
 */
export const MAX_DEPTH = 100;

/** A value still to look at, with how it was reached: the path is built only for a hit. */
interface Visit {
  v: unknown;
  depth: number;
  key?: string | number;
  parent?: Visit;
}

/**
 * The first thing in `value` no route takes: a string (or an object key) with U+0000 in it, or a
 * value nested more than {@link MAX_DEPTH} deep, with its path (`[]` for the value itself).
 * PostgreSQL cannot store U+0000 in `text` or `jsonb`, so such input would otherwise fail at the
 * database as a 500. Walked with a stack, not recursion, and linear in the body's size: copying
 * the path at every level made 80 KB of `[[[…]]]` hold the event loop for minutes.
 */
export function findUnacceptable(value: unknown): { problem: 'nul' | 'depth'; path: (string | number)[] } | undefined {
  const stack: Visit[] = [{ v: value, depth: 0 }];
  while (stack.length) {
    const at = stack.pop()!;
    const v = at.v;
    if (typeof v === 'string') {
      if (v.includes(NUL)) return { problem: 'nul', path: pathOf(at) };
      continue;
    }
    if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) continue;
    if (at.depth >= MAX_DEPTH) return { problem: 'depth', path: pathOf(at) };
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], depth: at.depth + 1, key: i, parent: at });
    } else {
      for (const [k, child] of Object.entries(v)) {
        if (k.includes(NUL)) return { problem: 'nul', path: pathOf(at) };
        stack.push({ v: child, depth: at.depth + 1, key: k, parent: at });
      }
    }
  }
  return undefined;
}

function pathOf(at: Visit): (string | number)[] {
  const path: (string | number)[] = [];
  for (let n: Visit | undefined = at; n?.parent; n = n.parent) path.push(n.key!);
  return path.reverse();
}

/**
 * The app's validator compiler: fastify-type-provider-zod's, after one check every route gets
 * for every part it declares (query string, params, headers, JSON body): no string may carry
 * U+0000 and nothing may nest deeper than {@link MAX_DEPTH}. Either is a 400 `invalid_request`
 * (a NUL's names its field); every other character, control characters included, is left to
 * the route's own schema.
 */
export const validatorCompiler: FastifySchemaCompiler<unknown> = (route) => {
  const validate = zodValidatorCompiler(route as Parameters<typeof zodValidatorCompiler>[0]);
  return (data) => {
    const found = findUnacceptable(data);
    if (found?.problem === 'depth') {
      return { error: badRequest(`${route.httpPart ?? 'request'}: nests more than ${MAX_DEPTH} levels deep`, 'invalid_request') };
    }
    if (found) {
      const where = found.path.length ? found.path.join('.') : (route.httpPart ?? 'request');
      return { error: badRequest(`${where}: must not contain a NUL character (U+0000)`, 'invalid_request') };
    }
    return validate(data);
  };
};
