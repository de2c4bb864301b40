import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';

/**
 * A request hook whose work is usually done at once: `work` returns a promise only when it really
 * waits (a database lookup, a drain). An `async` hook costs Fastify a promise chain on every
 * request whether or not it awaits, and with tracing on each promise also runs Node 20's
 * AsyncLocalStorage hooks; most requests of a signed-in user find everything cached.
 */
export function syncHook(
  work: (req: FastifyRequest, reply: FastifyReply) => PromiseLike<unknown> | void,
): (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void {
  return (req, reply, done) => {
    let waiting: PromiseLike<unknown> | void;
    try {
      waiting = work(req, reply);
    } catch (err) {
      done(err as Error);
      return;
    }
    if (waiting) waiting.then(() => done(), done);
    else done();
  };
}
