import pg from 'pg';
import { sql } from 'kysely';
import type { Database } from '../db/index.js';

/**
 * PostgreSQL LISTEN/NOTIFY between the app instances that share one database: one dedicated
 * connection listens, sends go through the pool. `listening` is false while that connection is
 * down (it reconnects with backoff); callers that rely on hearing every message (the unlocked
 * session cache) must not trust what they cached meanwhile.
 */
export class PgNotifier {
  #client: pg.Client | null = null;
  #listening = false;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;
  readonly #handlers = new Map<string, (payload: string) => void>();

  constructor(
    private readonly url: string,
    private readonly db: Database,
    private readonly onError: (err: Error) => void,
    /** Called each time listening (re)starts: whatever was missed while it was down is unknown. */
    private readonly onListening: () => void = () => {},
  ) {}

  get listening(): boolean {
    return this.#listening;
  }

  /** Registers a channel's handler; call before {@link start}. */
  on(channel: string, handler: (payload: string) => void): void {
    this.#handlers.set(channel, handler);
  }

  /** Resolves once listening, or after the first failed attempt (then it keeps retrying). */
  async start(): Promise<void> {
    await this.#connect(250);
  }

  async notify(channel: string, payload: string): Promise<void> {
    await sql`select pg_notify(${channel}, ${payload})`.execute(this.db);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#listening = false;
    await this.#client?.end().catch(() => {});
  }

  async #connect(backoffMs: number): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client({ connectionString: this.url });
    const lost = (err?: Error) => {
      if (this.#client !== client) return;
      this.#listening = false;
      this.#client = null;
      client.end().catch(() => {});
      if (err) this.onError(err);
      this.#schedule(backoffMs);
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (m) => this.#handlers.get(m.channel)?.(m.payload ?? ''));
    this.#client = client;
    try {
      await client.connect();
      for (const channel of this.#handlers.keys()) await client.query(`listen ${pg.escapeIdentifier(channel)}`);
      if (this.#client !== client) return;
      this.onListening();
      this.#listening = true;
    } catch (err) {
      lost(err as Error);
    }
  }

  #schedule(backoffMs: number): void {
    if (this.#closed) return;
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => void this.#connect(Math.min(backoffMs * 2, 10_000)), backoffMs);
    this.#retry.unref();
  }
}
