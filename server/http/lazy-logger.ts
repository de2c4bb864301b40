import type { FastifyBaseLogger } from 'fastify';

interface Pending {
  parent: FastifyBaseLogger;
  bindings: Record<string, unknown>;
  child?: FastifyBaseLogger;
}

const real = (p: Pending): FastifyBaseLogger => (p.child ??= p.parent.child(p.bindings));

/** One handler for every request's logger: each request allocates only its proxy and its state. */
const handler: ProxyHandler<Pending> = {
  get(p, prop) {
    const child = real(p);
    const value: unknown = Reflect.get(child, prop, child);
    // Bound, so pino's methods see (and write to) the child, never the proxy's state.
    return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(child) : value;
  },
  set: (p, prop, value) => Reflect.set(real(p), prop, value),
  has: (p, prop) => Reflect.has(real(p), prop),
};

/**
 * `parent.child(bindings)`, made the first time anything touches it. Most signed-in requests
 * log nothing, and a pino child is not cheap: its bindings are serialised through the redaction
 * paths when it is made, which cost a cached read about as much as its session lookup.
 */
export function lazyChild(parent: FastifyBaseLogger, bindings: Record<string, unknown>): FastifyBaseLogger {
  return new Proxy<Pending>({ parent, bindings }, handler) as unknown as FastifyBaseLogger;
}
