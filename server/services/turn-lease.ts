import type { Lease } from '../../sandbox/pool.js';

/** A lease some step may need, taken by the first that does (see {@link TurnLease}). */
export interface SharedLease {
  get(): Promise<Lease>;
  /**
   * The sandbox failed in a way the answer would only repeat (its model is stuck): it is given
   * back as failed, and the turn ends with `err` instead of waiting on it again.
   */
  fail(err: unknown): void;
}

/**
 * One sandbox lease for a whole chat turn: taken by the first step that needs the sandbox
 * (embedding the question, in a vault with vectors), kept for the answer, released once. Each
 * lease is a use of the container, which is recycled after `SANDBOX_MAX_USES` of them (a new one
 * loads the model again), and between two leases an idle container can go to another user.
 */
export class TurnLease implements SharedLease {
  readonly #acquire: () => Promise<Lease>;
  #lease: Promise<Lease> | undefined;
  /** Handed on to the answer, or given back: either way no longer this object's to release. */
  #done = false;

  constructor(acquire: () => Promise<Lease>) {
    this.#acquire = acquire;
  }

  /**
   * The turn's lease, taken now if no step has taken it yet. A failed take is the turn's answer:
   * taking again for the next step would make the turn wait the pool's timeout twice.
   */
  get(): Promise<Lease> {
    this.#lease ??= this.#acquire();
    return this.#lease;
  }

  fail(err: unknown): void {
    const taken = this.#lease;
    const failed = Promise.reject(err);
    // Observed by whichever step asks next, if one does.
    failed.catch(() => {});
    this.#lease = failed;
    if (this.#done || !taken) return;
    this.#done = true;
    taken.then(
      (lease) => lease.release({ error: true }),
      () => {},
    );
  }

  /** The lease for the answer, which from now on releases it. */
  handOn(): Promise<Lease> {
    this.#done = true;
    return this.get();
  }

  /** Releases the lease if a step took it and the answer never did (the turn failed before it). */
  release(): void {
    if (this.#done || !this.#lease) return;
    this.#done = true;
    this.#lease.then(
      (lease) => lease.release(),
      () => {},
    );
  }
}
