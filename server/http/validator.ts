import type { FastifySchemaCompiler } from 'fastify';
import { validatorCompiler as zodValidatorCompiler } from 'fastify-type-provider-zod';
import { badRequest } from '../errors.js';

const NUL = '\u0000';

/**
 * Where `value` holds a string (or an object key) with U+0000 in it, as a path (`[]` for the
 * value itself), else `undefined`. PostgreSQL cannot store U+0000 in `text` or `jsonb`, so such
 * input would otherwise fail at the database as a 500. Walked with a stack, not recursion: a
 * JSON body may nest as deep as its size allows.
 */
export function findNul(value: unknown): (string | number)[] | undefined {
  const stack: { v: unknown; path: (string | number)[] }[] = [{ v: value, path: [] }];
  while (stack.length) {
    const { v, path } = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes(NUL)) return path;
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: [...path, i] });
    } else if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) {
      for (const [k, child] of Object.entries(v)) {
        if (k.includes(NUL)) return path;
        stack.push({ v: child, path: [...path, k] });
      }
    }
  }
  return undefined;
}

/**
 * The app's validator compiler: fastify-type-provider-zod's, after one check every route gets
 * for every part it declares (query string, params, headers, JSON body): no string may carry
 * U+0000. That is a 400 `invalid_request` naming the field; every other character, control
 * characters included, is left to the route's own schema.
 */
export const validatorCompiler: FastifySchemaCompiler<unknown> = (route) => {
  const validate = zodValidatorCompiler(route as Parameters<typeof zodValidatorCompiler>[0]);
  return (data) => {
    const at = findNul(data);
    if (at) {
      const where = at.length ? at.join('.') : (route.httpPart ?? 'request');
      return { error: badRequest(`${where}: must not contain a NUL character (U+0000)`, 'invalid_request') };
    }
    return validate(data);
  };
};
