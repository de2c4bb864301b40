import type { FastifyBaseLogger } from 'fastify';

/**
 * `parent.child(bindings)`, made the first time anything touches it. Most signed-in requests
 * log nothing, and a pino child is not cheap: its bindings are serialised through the redaction
 * paths when it is made, which cost a cached read about as much as its session lookup.
 */
export function lazyChild(parent: FastifyBaseLogger, bindings: Record<string, unknown>): FastifyBaseLogger {
  let child: FastifyBaseLogger | undefined;
  const real = () => (child ??= parent.child(bindings));
  return new Proxy(parent, {
    get(_target, prop) {
      const c = real();
      const value: unknown = Reflect.get(c, prop, c);
      // Bound, so pino's methods see the child (and write to it), never the parent behind the proxy.
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(c) : value;
    },
    set: (_target, prop, value) => Reflect.set(real(), prop, value),
    has: (_target, prop) => Reflect.has(real(), prop),
  });
}
