import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * How long the connection may be held, in all, before the next caller to take it lets the event
 * loop turn. A turn is where Node reads sockets and accepts connections, one connection a turn
 * (libuv 1.45 and later).
 */
export const TURN_MS = 2;

/**
 * The embedded database's one connection: held by one caller at a time (a statement, or a
 * whole transaction), handed to waiters first come, first served.
 *
 * PGlite answers on this thread, so a request's statements and the work after them run to the
 * end inside the callback that read the request, and Node reads every ready socket in one turn:
 * a turn could hold a whole round of searches, and a client that had just connected waited one
 * such turn for each connection accepted before it (at 100k items, twenty new connections:
 * 1.4-2.4 s for the last, where a search takes ~8 ms). So once the connection has been held for
 * {@link TURN_MS} since a caller last let the loop turn, the next caller to take it, waiting or
 * not, lets it turn first, holding the connection meanwhile: what arrives in that turn queues
 * behind it, and a turn holds about {@link TURN_MS} of statements and the work that follows them.
 */
export class ConnectionLock {
  readonly #waiters: Array<() => void> = [];
  readonly #turnMs: number;
  #held = false;
  #heldSince = 0;
  /** Milliseconds the connection was held since a caller last let the event loop turn. */
  #sinceTurn = 0;

  constructor(turnMs = TURN_MS) {
    this.#turnMs = turnMs;
  }

  async lock(): Promise<void> {
    if (this.#held) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    else this.#held = true;
    if (this.#sinceTurn >= this.#turnMs) {
      await nextTurn();
      this.#sinceTurn = 0;
    }
    this.#heldSince = performance.now();
  }

  /** Hands the connection to the next waiter, if any (it stays held), or frees it. */
  unlock(): void {
    this.#sinceTurn += performance.now() - this.#heldSince;
    const next = this.#waiters.shift();
    if (next) next();
    else this.#held = false;
  }

  stats(): { inUse: number; waiting: number } {
    return { inUse: this.#held ? 1 : 0, waiting: this.#waiters.length };
  }
}
