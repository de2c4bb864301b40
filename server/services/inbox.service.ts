import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import { openWithPrivateKey, sealToPublicKey, verifyInboxKeyMac } from '../../crypto/index.js';
import { inboxBatch, inboxPrivateKey } from '../codec/index.js';
import type { QuantitySample, RecordInput } from '../../integrations/types.js';
import { asBuffer } from '../db/index.js';
import type { IntegrationsRepository } from '../repositories/integrations.repository.js';
import { certifyInboxKey } from './inbox-key.js';
import { replacedSamples } from './health/revisions.js';
import { itemFromRecord, type ItemsService } from './items.service.js';
import type { SessionContext } from './keyring.js';

/** Stores samples in the vault's day-chunk series (wired once the series service exists). */
export type SampleStore = (session: SessionContext, samples: QuantitySample[]) => Promise<void>;

type Kind = 'records' | 'samples';

/** Records per sealed batch: bounded so one inbox row stays small (FHIR documents can be large). */
const RECORDS_PER_BATCH = 100;
const SAMPLES_PER_BATCH = 5_000;
/** Rows moved into the vault per drain, so one request never does unbounded work. */
const ROWS_PER_DRAIN = 50;

/**
 * What a drain accepts from an opened batch. The sync worker wrote it, but the row sat in the
 * database: a record that is not whole is dropped (and counted) instead of failing the drain,
 * which would otherwise retry the same row on every request forever.
 */
const inboxRecord = z.object({
  kind: z.enum(['record', 'document']),
  source: z.enum(['manual', 'upload', 'fhir', 'epic', 'fitbit', 'google_health', 'apple_health']),
  type: z.string(),
  externalId: z.string().min(1),
  externalVersion: z.string(),
  occurredAt: z.string().nullable(),
  title: z.string(),
  text: z.string(),
  tags: z.array(z.string()),
  data: z.record(z.string(), z.unknown()),
});
const inboxSample = z.object({
  type: z.string().min(1),
  unit: z.string(),
  startMs: z.number().finite(),
  endMs: z.number().finite(),
  localDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  value: z.number().finite(),
  sourceName: z.string(),
});

/** The entries of `batch` that `schema` accepts, and how many it refused. */
function wholeEntries<T>(schema: z.ZodType<T>, batch: unknown): { ok: T[]; dropped: number } {
  const entries = Array.isArray(batch) ? batch : [];
  const ok: T[] = [];
  for (const e of entries) {
    const r = schema.safeParse(e);
    if (r.success) ok.push(r.data);
  }
  return { ok, dropped: (Array.isArray(batch) ? entries.length : 1) - ok.length };
}

/** The stored inbox public key has no valid MAC: nothing is sealed to it. */
export class InboxKeyUnverifiedError extends Error {
  override readonly name = 'InboxKeyUnverifiedError';
  constructor() {
    super("The vault's inbox key is not verified. Sign in once, then sync again.");
  }
}

const inboxInfo = (userId: string, rowId: string, provider: string, kind: Kind) => inboxBatch.info(userId, rowId, provider, kind);

/**
 * Background ingest without the vault key (DESIGN.md "Keys"). A sync worker seals each batch to
 * the user's inbox public key with HPKE; the `info` binds user, row, provider and kind so a
 * sealed batch cannot be replayed into another user's inbox or another row. The batches are
 * opened with the inbox private key (itself wrapped by the vault key) only inside a request of
 * the user's own unlocked session, stored through the items service (whose `external` dedupe
 * makes re-delivery harmless) and deleted.
 */
export class InboxService {
  /** Users whose inbox this instance filled since their last drain (skips the throttle). */
  readonly #dirty = new Set<string>();
  readonly #lastCheck = new Map<string, number>();
  readonly #draining = new Map<string, Promise<number>>();
  /** Users whose stored public key this instance has checked against their private key. */
  readonly #certified = new Set<string>();

  constructor(
    private readonly repo: IntegrationsRepository,
    private readonly items: ItemsService,
    private readonly opts: {
      checkEveryMs: number;
      storeSamples?: SampleStore;
      /** Takes a corrected resource's old samples out of the series (health/revisions.ts). */
      removeSamples?: SampleStore;
      serverKey: Buffer;
    },
  ) {}

  /** The kinds this instance can move into the vault; samples wait until a series store exists. */
  get #kinds(): Kind[] {
    return this.opts.storeSamples ? ['records', 'samples'] : ['records'];
  }

  /** Seals and deposits one sync's output, in bounded batches. The caller never holds a vault key. */
  async deposit(userId: string, provider: string, out: { records?: RecordInput[]; samples?: QuantitySample[] }): Promise<void> {
    const user = await this.repo.inboxPublicKey(userId);
    if (!user) return;
    const publicKey = asBuffer(user.inbox_public_key);
    // A database writer could swap in a key of their own; only a key a signed-in session
    // checked (and MACed under SERVER_KEY) is sealed to.
    if (!verifyInboxKeyMac(this.opts.serverKey, userId, publicKey, user.inbox_public_key_mac ? asBuffer(user.inbox_public_key_mac) : null)) {
      throw new InboxKeyUnverifiedError();
    }
    const put = async (kind: Kind, batch: unknown[]) => {
      const id = randomUUID();
      const sealed = await sealToPublicKey(publicKey, Buffer.from(JSON.stringify(batch)), inboxInfo(userId, id, provider, kind));
      await this.repo.deposit({ id, userId, provider, kind, sealed });
    };
    // Attachments' text is already in the record; their bytes would make rows huge.
    const records = (out.records ?? []).map(({ attachments: _drop, ...r }) => r);
    for (let i = 0; i < records.length; i += RECORDS_PER_BATCH) await put('records', records.slice(i, i + RECORDS_PER_BATCH));
    const samples = out.samples ?? [];
    for (let i = 0; i < samples.length; i += SAMPLES_PER_BATCH) await put('samples', samples.slice(i, i + SAMPLES_PER_BATCH));
    this.#dirty.add(userId);
  }

  /**
   * Cheap check on a live session's request: at most every `checkEveryMs` per user (sooner when
   * this instance just deposited for them); moves what is there into the vault. Never throws:
   * a failed drain is logged and retried on a later request. Undefined (no promise) when there is
   * nothing to do, as on most requests.
   */
  maybeDrain(session: SessionContext, log: FastifyBaseLogger): Promise<void> | undefined {
    if (!this.#certified.has(session.userId)) {
      return this.certify(session, log)
        .catch((err: unknown) => log.error({ err: { name: (err as Error).name } }, 'inbox key check failed'))
        .then(() => this.#drainIfDue(session, log));
    }
    return this.#drainIfDue(session, log);
  }

  #drainIfDue(session: SessionContext, log: FastifyBaseLogger): Promise<void> | undefined {
    const now = Date.now();
    const last = this.#lastCheck.get(session.userId) ?? 0;
    if (!this.#dirty.has(session.userId) && now - last < this.opts.checkEveryMs) return undefined;
    this.#lastCheck.set(session.userId, now);
    if (this.#lastCheck.size > 50_000) this.#lastCheck.clear();
    return this.#drainLogged(session, log);
  }

  async #drainLogged(session: SessionContext, log: FastifyBaseLogger): Promise<void> {
    try {
      if (!(await this.repo.hasInbox(session.userId, this.#kinds))) {
        this.#dirty.delete(session.userId);
        return;
      }
      const n = await this.drain(session, log);
      if (n) log.info({ inboxBatches: n }, 'inbox moved into the vault');
    } catch (err) {
      log.error({ err }, 'inbox drain failed');
    }
  }

  /**
   * Checks the stored inbox public key against the private key sealed under the vault key (which
   * a database writer cannot forge) and stores its MAC, so the sync worker can later check the
   * key without a vault key. A swapped key is put back and logged.
   */
  async certify(session: SessionContext, log?: FastifyBaseLogger): Promise<void> {
    const { userId } = session;
    if (!(await certifyInboxKey(this.repo, this.opts.serverKey, userId, session.keys, log))) return;
    this.#certified.add(userId);
    if (this.#certified.size > 50_000) this.#certified.clear();
  }

  /** Moves up to {@link ROWS_PER_DRAIN} batches into the vault; one drain per user at a time. */
  drain(session: SessionContext, log?: FastifyBaseLogger): Promise<number> {
    const running = this.#draining.get(session.userId);
    if (running) return running;
    const p = this.#drain(session, log).finally(() => this.#draining.delete(session.userId));
    this.#draining.set(session.userId, p);
    return p;
  }

  async #drain(session: SessionContext, log?: FastifyBaseLogger): Promise<number> {
    const { userId } = session;
    this.#dirty.delete(userId);
    const rows = await this.repo.claim(userId, this.#kinds, ROWS_PER_DRAIN);
    if (rows.length === 0) return 0;
    const user = await this.repo.inboxPublicKey(userId);
    if (!user) return 0;
    const privateKey = inboxPrivateKey.open(session.keys, { userId, id: userId, version: 1 }, asBuffer(user.inbox_private_key_wrapped));
    const done: string[] = [];
    let malformed = 0;
    try {
      for (const row of rows) {
        const plain = await openWithPrivateKey(privateKey, asBuffer(row.sealed), inboxInfo(userId, row.id, row.provider, row.kind as Kind));
        const batch = JSON.parse(plain.toString('utf8')) as unknown;
        if (row.kind === 'records') {
          const { ok, dropped } = wholeEntries<Omit<RecordInput, 'attachments'>>(inboxRecord, batch);
          malformed += dropped;
          if (ok.length) {
            const results = await this.items.createMany(
              session,
              ok.map((r) => itemFromRecord(r)),
            );
            const replaced = replacedSamples(results);
            if (replaced.length) await this.opts.removeSamples?.(session, replaced);
          }
        } else {
          const { ok, dropped } = wholeEntries<QuantitySample>(inboxSample, batch);
          malformed += dropped;
          if (ok.length) await this.opts.storeSamples!(session, ok);
        }
        done.push(row.id);
      }
    } finally {
      privateKey.fill(0);
      await this.repo.remove(done);
      await this.repo.release(rows.map((r) => r.id).filter((id) => !done.includes(id)));
    }
    // Only a count: the entries themselves are vault plaintext.
    if (malformed) log?.warn({ malformedInboxEntries: malformed }, 'inbox entries that were not whole were dropped');
    if (rows.length === ROWS_PER_DRAIN) this.#dirty.add(userId);
    return done.length;
  }
}
