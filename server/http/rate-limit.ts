import type { FastifyRequest } from 'fastify';

/**
 * A route's `config` for @fastify/rate-limit counting per signed-in user (the session hook runs
 * first), else per address: people behind one proxy do not share one allowance.
 * `afterValidation`: counted in preHandler, once the body is valid, and only for requests with a
 * session, so neither 401s nor 400s use up anyone's allowance.
 */
export function perUser(max: number, timeWindow: number | string, opts: { afterValidation?: boolean } = {}) {
  return {
    rateLimit: {
      max,
      timeWindow,
      keyGenerator: (req: FastifyRequest) => req.session?.userId ?? req.ip,
      ...(opts.afterValidation ? { hook: 'preHandler' as const, allowList: (req: FastifyRequest) => !req.session } : {}),
    },
  };
}
