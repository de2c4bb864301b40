import type { SandboxInstance, SandboxLogger, SandboxRuntime, SandboxRuntimeKind } from './runtime.js';
import { silentLogger } from './runtime.js';
import { AiOfflineError } from './errors.js';

/** A runtime on one engine; `removeAllExcept` (DockerRuntime has it) clears its leftovers on recovery. */
export interface HostRuntime extends SandboxRuntime {
  removeAllExcept?(keep: ReadonlySet<string>): Promise<number>;
}

/** One engine of the fleet and how many sandboxes it may run at once. */
export interface SandboxHost {
  name: string;
  capacity: number;
  runtime: HostRuntime;
}

/** Options of {@link MultiHostRuntime}. */
export interface MultiHostOptions {
  /** How often every engine is pinged (default 5 s). */
  checkIntervalMs?: number;
  /** How long a ping may take before it counts as a failure (default 2 s). */
  pingTimeoutMs?: number;
  /** Failed pings in a row after which an engine is drained (default 2). */
  failuresToDrain?: number;
  log?: SandboxLogger;
}

/** What {@link MultiHostRuntime.hosts} reports per engine. */
export interface HostStatus {
  name: string;
  up: boolean;
  capacity: number;
  /** Instances created there and not yet removed (lost ones included until removed). */
  live: number;
  /** Creates in progress there. */
  creating: number;
}

interface HostState extends SandboxHost {
  up: boolean;
  failures: number;
  live: Set<string>;
  creating: number;
  /** Removals asked for while the engine was down; done when it answers again. */
  doomed: Set<string>;
  recovering: boolean;
}

/**
 * Several engines behind one runtime, so the pool stays what it is. Placement: a new instance
 * goes to the answering engine with the most free capacity (the first listed on a tie), and an
 * engine that does not answer a create is drained and the next one tried. An instance lives on
 * the engine that made it for its whole life: nothing is ever moved, so a user's lease never
 * changes host mid-request.
 *
 * Draining: every engine is pinged every `checkIntervalMs`; after `failuresToDrain` failures in
 * a row (or at once when a create or remove finds it unreachable) it takes no new instances and
 * its instances are reported lost ({@link isLost}), so the pool stops leasing them and replaces
 * them elsewhere; a request already streaming from one fails on its own and its lease is
 * retired. Their removal waits until the engine answers again; then, before it takes new
 * instances, its leftovers are removed (this process's only, per host label).
 */
export class MultiHostRuntime implements SandboxRuntime {
  readonly kind: SandboxRuntimeKind;
  readonly ephemeral: boolean;
  private readonly states: HostState[];
  private readonly byInstance = new Map<string, HostState>();
  private readonly lost = new Set<string>();
  private readonly listeners = new Set<() => void>();
  private readonly log: SandboxLogger;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;

  constructor(
    hosts: SandboxHost[],
    private readonly opts: MultiHostOptions = {},
  ) {
    if (hosts.length === 0) throw new RangeError('at least one host is needed');
    this.states = hosts.map((h) => ({ ...h, up: true, failures: 0, live: new Set(), creating: 0, doomed: new Set(), recovering: false }));
    this.kind = hosts[0]!.runtime.kind;
    this.ephemeral = hosts.every((h) => h.runtime.ephemeral);
    this.log = opts.log ?? silentLogger;
  }

  /** The sum of every engine's capacity: the most instances the fleet ever holds. */
  get totalCapacity(): number {
    return this.states.reduce((n, h) => n + h.capacity, 0);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.check(), this.opts.checkIntervalMs ?? 5000);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.listeners.clear();
    await this.checking;
  }

  watch(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  freeSlots(): number {
    return this.states.reduce((n, h) => n + (h.up ? free(h) : 0), 0);
  }

  available(): boolean {
    return this.states.some((h) => h.up);
  }

  isLost(id: string): boolean {
    return this.lost.has(id);
  }

  /** The name of the engine an instance lives on. */
  hostOf(id: string): string | undefined {
    return this.byInstance.get(id)?.name;
  }

  hosts(): HostStatus[] {
    return this.states.map((h) => ({ name: h.name, up: h.up, capacity: h.capacity, live: h.live.size, creating: h.creating }));
  }

  /**
   * Creates on the answering engine with the most free capacity. The engine is chosen and its
   * slot reserved before the first await, so the pool's count of free slots stays exact.
   */
  create(): Promise<SandboxInstance> {
    const tried = new Set<HostState>();
    const next = (): HostState | undefined => {
      let best: HostState | undefined;
      for (const h of this.states) if (h.up && !tried.has(h) && free(h) > 0 && (!best || free(h) > free(best))) best = h;
      if (best) {
        tried.add(best);
        best.creating++;
      }
      return best;
    };
    const first = next();
    const attempt = async (h: HostState | undefined): Promise<SandboxInstance> => {
      if (!h) {
        const up = this.states.filter((s) => s.up).length;
        throw up === 0
          ? new AiOfflineError(`The AI is offline: none of the ${this.states.length} sandbox hosts answers.`)
          : new AiOfflineError(`No sandbox host has free capacity (${up} of ${this.states.length} answer).`);
      }
      let instance: SandboxInstance;
      try {
        instance = await h.runtime.create();
      } catch (err) {
        h.creating--;
        // A create that failed because the engine is gone is retried elsewhere; any other
        // failure (a missing image, a bad model) would fail the same everywhere.
        if (await this.answers(h)) throw err;
        this.drainHost(h, err);
        return attempt(next());
      }
      h.creating--;
      h.live.add(instance.id);
      this.byInstance.set(instance.id, h);
      if (!h.up) this.lost.add(instance.id);
      this.log.debug?.({ host: h.name, id: instance.id }, 'sandbox placed');
      return instance;
    };
    return attempt(first);
  }

  async destroy(id: string): Promise<void> {
    const h = this.byInstance.get(id);
    if (!h) return;
    if (!h.up) {
      h.doomed.add(id);
      return;
    }
    try {
      await h.runtime.destroy(id);
    } catch (err) {
      if (await this.answers(h)) throw err;
      this.drainHost(h, err);
      h.doomed.add(id);
      return;
    }
    this.forget(h, id);
  }

  /** Every answering engine's orphans; one that does not answer is drained (and cleaned on recovery). */
  async removeOrphans(): Promise<number> {
    let removed = 0;
    let firstError: unknown;
    // One engine after another: engines that share storage (as two podman services do) would
    // otherwise race for the same orphans.
    for (const h of this.states) {
      try {
        removed += await h.runtime.removeOrphans();
      } catch (err) {
        if (await this.answers(h)) firstError ??= err;
        else this.drainHost(h, err);
      }
    }
    if (firstError !== undefined && removed === 0) throw firstError;
    return removed;
  }

  async ping(): Promise<boolean> {
    const answers = await Promise.all(this.states.filter((h) => h.up).map((h) => this.answers(h)));
    return answers.some(Boolean);
  }

  /** One round of health checks (the timer's job; exposed so tests need not wait for it). */
  check(): Promise<void> {
    this.checking ??= (async () => {
      try {
        await Promise.all(this.states.map((h) => this.checkHost(h)));
      } finally {
        this.checking = undefined;
      }
    })();
    return this.checking;
  }

  private async checkHost(h: HostState): Promise<void> {
    if (await this.answers(h)) {
      h.failures = 0;
      if (!h.up) await this.recover(h);
      return;
    }
    h.failures++;
    if (h.up && h.failures >= (this.opts.failuresToDrain ?? 2)) this.drainHost(h, new Error(`${h.failures} pings failed`));
  }

  private async answers(h: HostState): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), this.opts.pingTimeoutMs ?? 2000)));
      return await Promise.race([h.runtime.ping().catch(() => false), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private drainHost(h: HostState, cause: unknown): void {
    if (!h.up) return;
    h.up = false;
    for (const id of h.live) this.lost.add(id);
    const reason = cause instanceof Error ? cause.message : String(cause);
    this.log.warn({ host: h.name, lost: h.live.size, reason }, 'sandbox host stopped answering: drained, its sandboxes are replaced elsewhere');
    this.notify();
  }

  /** Removes what was left on an engine that answers again, then lets it take instances. */
  private async recover(h: HostState): Promise<void> {
    if (h.recovering || h.creating > 0) return;
    h.recovering = true;
    try {
      for (const id of [...h.doomed]) {
        await h.runtime.destroy(id);
        h.doomed.delete(id);
        this.forget(h, id);
      }
      // Creates cut off mid-way left containers nobody knows; keep only the still-leased ones.
      await h.runtime.removeAllExcept?.(new Set(h.live));
      await h.runtime.removeOrphans();
      h.up = true;
      h.failures = 0;
      this.log.info({ host: h.name }, 'sandbox host answers again: taking new sandboxes');
      this.notify();
    } catch (err) {
      this.log.warn({ host: h.name, err }, 'sandbox host answers but its leftovers could not be removed yet');
    } finally {
      h.recovering = false;
    }
  }

  private forget(h: HostState, id: string): void {
    h.live.delete(id);
    this.byInstance.delete(id);
    this.lost.delete(id);
  }

  private notify(): void {
    for (const l of [...this.listeners]) {
      try {
        l();
      } catch (err) {
        this.log.error({ err }, 'sandbox host listener failed');
      }
    }
  }
}

function free(h: HostState): number {
  return Math.max(0, h.capacity - h.live.size - h.creating);
}
