import { randomBytes } from 'node:crypto';
import { activityCursorKey, DecryptError, gcmDecrypt, gcmEncrypt, openWithPrivateKey, sealToPublicKey, verifyInboxKeyMac } from '../../crypto/index.js';
import { auditDetail, inboxPrivateKey, type AuditDetail, type ConnectionRef, type KeySource } from '../codec/index.js';
import { asBuffer } from '../db/index.js';
import { badRequest } from '../errors.js';
import type { AuditAction, AuditRepository } from '../repositories/audit.repository.js';
import { certifyInboxKey } from './inbox-key.js';
import type { IntegrationsRepository } from '../repositories/integrations.repository.js';
import { clientLabel } from './client-label.js';
import type { SessionContext } from './keyring.js';

/** Who acted, as far as the request tells: its user agent, and the vault keys when they are unlocked. */
export interface ClientContext {
  userAgent?: string;
  /** With the vault keys the inbox public key is derived from its sealed private key, not trusted from the row. */
  keys?: KeySource;
}

/** Anything that writes the audit log (the activity service; the bare repository where no client is known). */
export interface AuditRecorder {
  /** `about` names what the event concerns beyond its action (the integration's connection). */
  record(action: AuditAction, userId: string | null, requestId?: string, client?: ClientContext, about?: { connection?: ConnectionRef }): Promise<void>;
}

export interface ActivityEvent {
  action: string;
  at: string;
  client?: string;
  connection?: ConnectionRef;
}

/**
 * The audit log as its owner reads it (Settings → Activity). Each event's client is sealed to
 * the owner's inbox public key, so events are written with or without the vault key (a failed
 * sign-in has none) and opened only in the owner's own unlocked session.
 */
export class ActivityService implements AuditRecorder {
  constructor(
    private readonly audit: AuditRepository,
    private readonly users: IntegrationsRepository,
    private readonly serverKey: Buffer,
    private readonly log?: { warn(msg: string): void },
  ) {
    this.#cursorKey = activityCursorKey(serverKey);
  }

  readonly #cursorKey: Buffer;

  /**
   * A page cursor: the last row's id sealed for this user (AES-GCM under a SERVER_KEY subkey). The
   * id comes from a sequence every user's events share, so in clear it would tell anyone how many
   * security events the whole server records between two pages.
   */
  #sealCursor(userId: string, id: string): string {
    const iv = randomBytes(12);
    const plain = Buffer.alloc(8);
    plain.writeBigUInt64BE(BigInt(id));
    const { ciphertext, tag } = gcmEncrypt(this.#cursorKey, iv, plain, Buffer.from(`cv1|activity-cursor|${userId}`));
    return Buffer.concat([iv, ciphertext, tag]).toString('base64url');
  }

  #openCursor(userId: string, cursor: string): string {
    const raw = Buffer.from(cursor, 'base64url');
    try {
      const plain = gcmDecrypt(this.#cursorKey, raw.subarray(0, 12), raw.subarray(12, 20), raw.subarray(20), Buffer.from(`cv1|activity-cursor|${userId}`));
      return plain.readBigUInt64BE().toString();
    } catch (err) {
      if (err instanceof DecryptError || err instanceof RangeError)
        throw badRequest('Invalid cursor: use the nextCursor of a previous page.', 'invalid_cursor');
      throw err;
    }
  }

  async record(action: AuditAction, userId: string | null, requestId?: string, client?: ClientContext, about?: { connection?: ConnectionRef }): Promise<void> {
    const label = clientLabel(client?.userAgent);
    const detail: AuditDetail = { ...(label ? { client: label } : {}), ...(about?.connection ? { connection: about.connection } : {}) };
    // A detail that cannot be sealed must not stop what is being recorded (a sign-in): the event is kept without it.
    const sealed = userId && Object.keys(detail).length ? await this.#seal(userId, action, detail, client?.keys).catch(() => undefined) : undefined;
    if (userId && sealed) await this.audit.recordSealed(action, userId, requestId, sealed);
    else await this.audit.record(action, userId, requestId);
  }

  async list(session: SessionContext, limit: number, cursor?: string): Promise<{ events: ActivityEvent[]; nextCursor: string | null }> {
    const after = cursor === undefined ? undefined : this.#openCursor(session.userId, cursor);
    const rows = await this.audit.listForUser(session.userId, limit + 1, after);
    const page = rows.slice(0, limit);
    const privateKey = page.some((r) => r.detail_sealed) ? await this.#privateKey(session) : null;
    try {
      const events: ActivityEvent[] = [];
      for (const r of page) {
        const event: ActivityEvent = { action: r.action, at: r.created_at.toISOString() };
        if (r.detail_sealed && privateKey) {
          const detail = await this.#open(privateKey, session.userId, r.action, r.created_at, asBuffer(r.detail_sealed));
          if (detail?.client) event.client = detail.client;
          if (detail?.connection) event.connection = detail.connection;
        }
        events.push(event);
      }
      return { events, nextCursor: rows.length > limit ? this.#sealCursor(session.userId, String(page[page.length - 1]!.id)) : null };
    } finally {
      privateKey?.fill(0);
    }
  }

  /** Null when there is no key to seal to that can be trusted: the event is kept, without its client. */
  async #seal(userId: string, action: AuditAction, detail: AuditDetail, keys?: KeySource): Promise<{ at: Date; detail: Buffer } | undefined> {
    const publicKey = await this.#publicKey(userId, keys);
    if (!publicKey) return undefined;
    const at = new Date();
    return { at, detail: await sealToPublicKey(publicKey, auditDetail.encode(detail), auditDetail.info(userId, action, at)) };
  }

  async #publicKey(userId: string, keys?: KeySource): Promise<Buffer | null> {
    const row = await this.users.inboxPublicKey(userId);
    if (!row) return null;
    // With the vault keys the key is checked against the vault now (and put back if swapped), so
    // the next event without them (a failed sign-in) can trust the stored key.
    if (keys) return certifyInboxKey(this.users, this.serverKey, userId, keys, this.log);
    // Without the vault keys only a public key that a signed-in session checked is sealed to,
    // so a database writer cannot swap in a key of their own and read the clients.
    const publicKey = asBuffer(row.inbox_public_key);
    const mac = row.inbox_public_key_mac ? asBuffer(row.inbox_public_key_mac) : null;
    return verifyInboxKeyMac(this.serverKey, userId, publicKey, mac) ? publicKey : null;
  }

  async #privateKey(session: SessionContext): Promise<Buffer | null> {
    const row = await this.users.inboxPublicKey(session.userId);
    if (!row) return null;
    return inboxPrivateKey.open(session.keys, { userId: session.userId, id: session.userId, version: 1 }, asBuffer(row.inbox_private_key_wrapped));
  }

  /** A detail that does not open (moved from another row, tampered) is shown as no detail. */
  async #open(privateKey: Buffer, userId: string, action: string, at: Date, blob: Buffer): Promise<AuditDetail | null> {
    try {
      return auditDetail.decode(await openWithPrivateKey(privateKey, blob, auditDetail.info(userId, action, at)));
    } catch (err) {
      if (err instanceof DecryptError || err instanceof SyntaxError) return null;
      throw err;
    }
  }
}
