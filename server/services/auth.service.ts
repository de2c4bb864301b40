import { randomUUID } from 'node:crypto';
import {
  DecryptError,
  InvalidRecoveryKeyError,
  decodeSessionCookie,
  derivePassphraseKey,
  encodeSessionCookie,
  generateInboxKeyPair,
  generateRecoveryKey,
  newKdfParams,
  newSessionSecret,
  parseRecoveryKey,
  recoveryWrappingKey,
  sessionLookupId,
  sessionWrappingKey,
  unwrapVaultKey,
  wrapVaultKey,
  randomKey,
  sealToPublicKey,
  type KdfParams,
} from '../../crypto/index.js';
import { inboxPrivateKey } from '../codec/index.js';
import { asBuffer } from '../db/index.js';
import { conflict, forbidden, unauthorized } from '../errors.js';
import type { InvitesRepository } from '../repositories/invites.repository.js';
import { inviteCodeHash, type SignupPolicy } from './invites.service.js';
import type { SessionsRepository } from '../repositories/sessions.repository.js';
import type { UsersRepository } from '../repositories/users.repository.js';
import type { AuditAction } from '../repositories/audit.repository.js';
import type { AuditRecorder } from './activity.service.js';
import type { ForgetMatch, SessionWork } from './session-work.js';
import { KeyRing, type SessionContext } from './keyring.js';
import { normalizeEmail } from '../../contract/index.js';
import { CEILING_POLICY, MemoryFailureThrottle, clientBucket, type Ceiling, type FailureThrottle } from './throttle.js';

export interface PublicUser {
  id: string;
  email: string;
}

export interface NewSession {
  cookie: string;
  expiresAt: Date;
  context: SessionContext;
}

const BAD_LOGIN = 'Email or passphrase is incorrect.';
const BAD_RECOVERY = 'Email or recovery key is incorrect.';
/**
 * A passphrase change, recovery or recovery-key rotation that lost a race with another one on
 * the same account: nothing of it was saved, and what the winner set is in force.
 */
const PASSPHRASE_RACED = () =>
  conflict('The passphrase was changed by another request at the same time, and that change is the one in force; this one was not saved.', 'concurrent_change');
const RECOVERY_KEY_RACED = () =>
  conflict(
    'The recovery key was replaced by another request at the same time, and only that key works; this one was not saved. Create a new key again to see one here.',
    'concurrent_change',
  );
/**
 * Sessions slide forward at most this often, to keep writes off the hot path. A minute, as for API
 * tokens: Settings shows the time as each session's "Last active", which an hour left stale.
 */
const TOUCH_EVERY_MS = 60_000;

/** Cache revocations between instances: `publish` reaches every other instance's `forgetLocal`. */
export interface SessionRevocations {
  publish(match: ForgetMatch): Promise<void>;
  /** False while revocations from other instances might be missed: the cache is then bypassed. */
  readonly reliable: boolean;
}

export type { ForgetMatch };

/** The one spelling of an email (contract/account.ts), re-exported for the server's other callers. */
export { normalizeEmail };

/**
 * Failed-attempt keys. The lock that refuses an attempt is the account's from one client (an
 * address, or an IPv6 /64, for sign-in and recovery; the session for a signed-in user's passphrase
 * checks), so a stranger who knows an email locks only themselves out; the account across every
 * client is a high ceiling against guessing spread over many addresses (CEILING_POLICY). A
 * signed-in user's checks never share a key with sign-in: guesses at the sign-in form must not
 * stop the owner changing the passphrase, replacing the recovery key or deleting the account.
 */
type Attempt = { key: string; ceiling: Ceiling };
const attempts = {
  signIn: (email: string, address?: string): Attempt => ({
    key: `login-client:${clientBucket(address)}|${email}`,
    ceiling: { key: `login-account:${email}`, policy: CEILING_POLICY },
  }),
  recover: (email: string, address?: string): Attempt => ({
    key: `recover-client:${clientBucket(address)}|${email}`,
    ceiling: { key: `recover-account:${email}`, policy: CEILING_POLICY },
  }),
  reauth: (session: SessionContext): Attempt => ({
    key: `reauth-session:${session.sessionId}`,
    ceiling: { key: `reauth-account:${session.userId}`, policy: CEILING_POLICY },
  }),
};

/**
 * Unlocked sessions are remembered briefly so that each request does not pay a database round
 * trip and an unwrap. Revocation on this instance is immediate; other instances sharing the
 * database hear of it through `revocations` (PostgreSQL NOTIFY) and drop their copy at once, and
 * while they cannot hear (the listening connection is down) they do not use the cache at all.
 */
const SESSION_CACHE_MS = 15_000;
const SESSION_CACHE_MAX = 10_000;

export class AuthService {
  readonly #throttle: FailureThrottle;
  readonly #cache = new Map<string, { context: SessionContext; until: number }>();
  /** Computed once so that an unknown email costs the same KDF as a known one. */
  #decoyParams: KdfParams | undefined;
  /** A recovery wrap under a key nobody has, tried for unknown emails: see {@link recover}. */
  #decoyRecovery: { id: string; key_version: number; wrapped_vk_recovery: Uint8Array; inboxPublicKey: Uint8Array } | undefined;

  constructor(
    private readonly users: UsersRepository,
    private readonly sessions: SessionsRepository,
    private readonly audit: AuditRecorder,
    private readonly opts: {
      sessionTtlMs: number;
      signup?: { policy: SignupPolicy; invites: InvitesRepository };
      /** Runs after a recovery: ends other ways in (API tokens) that the old passphrase's holder may have made. */
      onRecovered?: (userId: string) => Promise<void>;
      /** Tells the other instances which cached sessions to drop; absent with one instance. */
      revocations?: SessionRevocations;
      /** Failed-attempt counts per account; shared between instances when given (default: in memory). */
      throttle?: FailureThrottle;
      /** In-flight work (chat answers) of sessions and tokens, stopped when they are revoked here or on another instance. */
      work?: SessionWork;
    },
  ) {
    this.#throttle = opts.throttle ?? new MemoryFailureThrottle();
  }

  /**
   * Creates an account under the sign-up policy. Invite and closed policies answer 403
   * `signup_closed` before anything else, so strangers learn nothing about which emails exist.
   * A taken email must still be said (409: without email verification there is no other way to
   * tell the person), but only after the same Argon2id work as a real sign-up, so probing costs
   * what a sign-up costs and shares the per-IP limit.
   */
  async register(emailInput: string, passphrase: string, requestId?: string, inviteCode?: string, userAgent?: string) {
    const email = normalizeEmail(emailInput);
    const inviteId = await this.#admit(inviteCode);
    const userId = randomUUID();
    const keyVersion = 1;
    const vaultKey = randomKey();
    const params = newKdfParams();
    try {
      const passphraseKey = await derivePassphraseKey(passphrase, params);
      if (await this.users.findByEmail(email)) throw conflict('An account with this email already exists.', 'email_taken');
      const recovery = generateRecoveryKey();
      const inbox = await generateInboxKeyPair();
      try {
        await this.users.create({
          id: userId,
          email,
          kdf_params: JSON.stringify(params),
          key_version: keyVersion,
          wrapped_vk_passphrase: wrapVaultKey(passphraseKey, vaultKey, { purpose: 'passphrase', userId, keyVersion }),
          wrapped_vk_recovery: wrapVaultKey(recoveryWrappingKey(recovery.key), vaultKey, { purpose: 'recovery', userId, keyVersion }),
          inbox_public_key: inbox.publicKey,
          inbox_private_key_wrapped: inboxPrivateKey.seal(new KeyRing(vaultKey), { userId, id: userId, version: 1 }, inbox.privateKey),
        });
      } catch (err) {
        if ((err as { code?: string }).code === '23505') throw conflict('An account with this email already exists.', 'email_taken');
        throw err;
      }
      if (inviteId) await this.opts.signup!.invites.markUsedBy(inviteId, userId);
      await this.opts.signup?.invites.ensureAdmin();
      await this.audit.record('register', userId, requestId, { userAgent, keys: new KeyRing(vaultKey) });
      const session = await this.#openSession(userId, email, keyVersion, vaultKey);
      return { user: { id: userId, email }, recoveryKey: recovery.text, session };
    } catch (err) {
      if (inviteId) await this.opts.signup!.invites.release(inviteId);
      throw err;
    }
  }

  /** Applies SIGNUP: null when open, the taken invite's id with `invite`, else 403. */
  async #admit(inviteCode: string | undefined): Promise<string | null> {
    const policy = this.opts.signup?.policy ?? 'open';
    if (policy === 'open') return null;
    if (policy === 'closed') throw forbidden('Sign-up is closed on this server.', 'signup_closed');
    if (!inviteCode) throw forbidden('An invite code is needed to create an account on this server.', 'signup_closed');
    const id = await this.opts.signup!.invites.consume(inviteCodeHash(inviteCode));
    if (!id) throw forbidden('This invite code is not valid: it may have been used or have expired.', 'signup_closed');
    return id;
  }

  /** `address`: the client's, as the per-IP limit sees it (TRUST_PROXY); absent, one shared bucket. */
  async login(emailInput: string, passphrase: string, requestId?: string, userAgent?: string, address?: string) {
    const email = normalizeEmail(emailInput);
    const attempt = attempts.signIn(email, address);
    await this.#reserve(attempt);
    const user = await this.users.findByEmail(email);
    if (!user) {
      await derivePassphraseKey(passphrase, (this.#decoyParams ??= newKdfParams()));
      throw unauthorized(BAD_LOGIN, 'invalid_credentials');
    }
    const vaultKey = await this.#unlockWithPassphrase(user, passphrase);
    if (!vaultKey) {
      await this.audit.record('login_failed', user.id, requestId, { userAgent });
      throw unauthorized(BAD_LOGIN, 'invalid_credentials');
    }
    await this.#succeeded(attempt);
    await this.audit.record('login', user.id, requestId, { userAgent, keys: new KeyRing(vaultKey) });
    const session = await this.#openSession(user.id, user.email, user.key_version, vaultKey);
    return { user: { id: user.id, email: user.email }, session };
  }

  /**
   * The unlocked session a cookie opens when this instance has it cached and may trust the cache
   * (what {@link authenticate} would answer without a lookup), else undefined: the common case,
   * answered without a promise.
   */
  cachedSession(cookie: string | undefined): SessionContext | undefined {
    if (!cookie) return undefined;
    const cached = this.#cache.get(cookie);
    if (cached && (this.opts.revocations?.reliable ?? true) && cached.until > Date.now()) return cached.context;
    return undefined;
  }

  /** Resolves a cookie to an unlocked session, or null when it is missing, unknown or expired. */
  async authenticate(cookie: string | undefined): Promise<SessionContext | null> {
    if (!cookie) return null;
    // Keyed by the cookie itself: only a value that decoded canonically is ever stored, so a hit
    // is that same secret, and costs one lookup instead of a decode and an HKDF per request.
    const cacheKey = cookie;
    const hit = this.cachedSession(cookie);
    if (hit) return hit;
    if (this.#cache.has(cacheKey)) this.#drop(cacheKey);
    const trusted = this.opts.revocations?.reliable ?? true;
    const secret = decodeSessionCookie(cookie);
    if (!secret) return null;
    const row = await this.sessions.findLive(sessionLookupId(secret));
    if (!row) return null;
    let vaultKey: Buffer;
    try {
      vaultKey = unwrapVaultKey(sessionWrappingKey(secret), asBuffer(row.wrapped_vk), { purpose: 'session', userId: row.user_id, keyVersion: row.key_version });
    } catch (err) {
      if (err instanceof DecryptError) return null;
      throw err;
    }
    if (Date.now() - row.last_seen_at.getTime() > TOUCH_EVERY_MS) {
      await this.sessions.touch(row.id, new Date(Date.now() + this.opts.sessionTtlMs));
    }
    const context = { userId: row.user_id, sessionId: row.id, email: row.email, keys: new KeyRing(vaultKey) };
    const until = Math.min(Date.now() + SESSION_CACHE_MS, new Date(row.expires_at).getTime());
    if (!trusted) return context;
    if (this.#cache.size >= SESSION_CACHE_MAX) this.#drop(this.#cache.keys().next().value!);
    context.keys.keepRowKeys();
    this.#cache.set(cacheKey, { context, until });
    return context;
  }

  /** Drops cached unlocked sessions, here and on every other instance: one session, or all of a user's but `keep`. */
  async forget(match: ForgetMatch): Promise<void> {
    this.forgetLocal(match);
    await this.opts.revocations?.publish(match);
  }

  /** Empties this instance's cache (the revocation listener was down: some messages may be lost). */
  clearCache(): void {
    for (const k of [...this.#cache.keys()]) this.#drop(k);
  }

  /** Forgets a cached session and wipes the row keys its ring kept. */
  #drop(cacheKey: string): void {
    this.#cache.get(cacheKey)?.context.keys.dropRowKeys();
    this.#cache.delete(cacheKey);
  }

  /**
   * Drops cached unlocked sessions on this instance only (what {@link forget} sends lands here),
   * and stops what they still had running here.
   */
  forgetLocal(match: ForgetMatch): void {
    this.opts.work?.revoke(match);
    for (const [k, v] of this.#cache) {
      const c = v.context;
      if (match.sessionId ? c.sessionId === match.sessionId : c.userId === match.userId && c.sessionId !== match.keep) {
        this.#drop(k);
      }
    }
  }

  async logout(session: SessionContext, requestId?: string): Promise<void> {
    await this.sessions.delete(session.sessionId);
    await this.forget({ sessionId: session.sessionId });
    await this.audit.record('logout', session.userId, requestId);
  }

  listSessions(session: SessionContext) {
    return this.sessions.listForUser(session.userId);
  }

  async revokeSession(session: SessionContext, id: string, requestId?: string): Promise<boolean> {
    const n = await this.sessions.delete(id, session.userId);
    await this.forget({ sessionId: id });
    if (n > 0) await this.audit.record('session_revoked', session.userId, requestId);
    return n > 0;
  }

  /** "End all other sessions": every session of the user but the caller's; how many ended. */
  async revokeOtherSessions(session: SessionContext, requestId?: string): Promise<number> {
    const n = await this.sessions.deleteOthers(session.userId, session.sessionId);
    await this.forget({ userId: session.userId, keep: session.sessionId });
    if (n > 0) await this.audit.record('other_sessions_revoked', session.userId, requestId);
    return n;
  }

  /** Re-wraps the vault key only (no data is re-encrypted) and ends every other session. */
  async changePassphrase(session: SessionContext, current: string, next: string, requestId?: string, userAgent?: string): Promise<void> {
    const attempt = attempts.reauth(session);
    await this.#reserve(attempt);
    const user = await this.users.findById(session.userId);
    if (!user) throw unauthorized();
    if (!(await this.#unlockWithPassphrase(user, current))) {
      await this.#failed('passphrase_change_failed', session, requestId, userAgent);
      throw unauthorized('The current passphrase is incorrect.', 'invalid_credentials');
    }
    await this.#succeeded(attempt);
    if (!(await this.#setPassphrase(user, session.keys.vaultKey, next))) throw PASSPHRASE_RACED();
    await this.sessions.deleteOthers(user.id, session.sessionId);
    await this.forget({ userId: user.id, keep: session.sessionId });
    await this.audit.record('passphrase_changed', user.id, requestId);
  }

  async recover(emailInput: string, recoveryKeyText: string, next: string, requestId?: string, userAgent?: string, address?: string) {
    const email = normalizeEmail(emailInput);
    const attempt = attempts.recover(email, address);
    await this.#reserve(attempt);
    const user = await this.users.findByEmail(email);
    // An unknown email does what a wrong key for a real account does (parse, unwrap, record the
    // failure, kept without a user), so the answer's timing does not tell which emails have an
    // account: the decoy KDF of `login`, for recovery.
    const decoy = user ? undefined : await this.#decoyRecoveryWrap();
    const target = user ?? decoy!;
    let vaultKey: Buffer | undefined;
    try {
      const key = parseRecoveryKey(recoveryKeyText);
      vaultKey = unwrapVaultKey(recoveryWrappingKey(key), asBuffer(target.wrapped_vk_recovery), {
        purpose: 'recovery',
        userId: target.id,
        keyVersion: target.key_version,
      });
    } catch (err) {
      if (!(err instanceof DecryptError || err instanceof InvalidRecoveryKeyError)) throw err;
    }
    if (!user || !vaultKey) {
      // A real account's failure is sealed to its inbox key (a key lookup and an HPKE seal).
      if (decoy) await this.#decoySeal(decoy);
      await this.audit.record('recover_failed', user?.id ?? null, requestId, { userAgent });
      throw unauthorized(BAD_RECOVERY, 'invalid_credentials');
    }
    await this.#succeeded(attempt);
    if (!(await this.#setPassphrase(user, vaultKey, next))) throw PASSPHRASE_RACED();
    await this.sessions.deleteOthers(user.id, null);
    // API tokens end too (onRecovered), so their running work stops with the sessions'.
    await this.forget({ userId: user.id, tokens: true });
    await this.opts.onRecovered?.(user.id);
    await this.audit.record('recovered', user.id, requestId, { userAgent, keys: new KeyRing(vaultKey) });
    const session = await this.#openSession(user.id, user.email, user.key_version, vaultKey);
    return { user: { id: user.id, email: user.email }, session };
  }

  /**
   * Replaces the recovery key: VK is wrapped under a fresh one, which replaces the only wrap
   * under the old key, so the old key stops working. The passphrase is required (a stolen
   * session alone must not be able to swap the way back in).
   */
  async rotateRecoveryKey(session: SessionContext, passphrase: string, requestId?: string, userAgent?: string): Promise<string> {
    const attempt = attempts.reauth(session);
    await this.#reserve(attempt);
    const user = await this.users.findById(session.userId);
    if (!user) throw unauthorized();
    const vaultKey = await this.#unlockWithPassphrase(user, passphrase);
    if (!vaultKey) {
      await this.#failed('recovery_key_rotation_failed', session, requestId, userAgent);
      throw unauthorized('The passphrase is incorrect.', 'invalid_credentials');
    }
    await this.#succeeded(attempt);
    const recovery = generateRecoveryKey();
    // Only over the wrap read above: of rotations that raced, one key is saved and only its
    // request answers with a key; the others get 409 rather than a key that never works.
    const saved = await this.users.setRecoveryWrap(
      user.id,
      wrapVaultKey(recoveryWrappingKey(recovery.key), vaultKey, { purpose: 'recovery', userId: user.id, keyVersion: user.key_version }),
      asBuffer(user.wrapped_vk_recovery),
    );
    recovery.key.fill(0);
    if (!saved) throw RECOVERY_KEY_RACED();
    await this.audit.record('recovery_key_rotated', user.id, requestId);
    return recovery.text;
  }

  /**
   * Confirms the passphrase of a signed-in user (before destructive actions such as deletion); a
   * wrong one is recorded in the owner's activity as `failed`.
   */
  async verifyPassphrase(
    session: SessionContext,
    passphrase: string,
    failed: { action: AuditAction; requestId?: string; userAgent?: string },
  ): Promise<boolean> {
    const attempt = attempts.reauth(session);
    await this.#reserve(attempt);
    const user = await this.users.findById(session.userId);
    const ok = !!user && !!(await this.#unlockWithPassphrase(user, passphrase));
    if (ok) await this.#succeeded(attempt);
    else if (user) await this.#failed(failed.action, session, failed.requestId, failed.userAgent);
    return ok;
  }

  async #decoyRecoveryWrap() {
    if (!this.#decoyRecovery) {
      const id = randomUUID();
      const wrapped = wrapVaultKey(randomKey(), randomKey(), { purpose: 'recovery', userId: id, keyVersion: 1 });
      this.#decoyRecovery = { id, key_version: 1, wrapped_vk_recovery: wrapped, inboxPublicKey: (await generateInboxKeyPair()).publicKey };
    }
    return this.#decoyRecovery;
  }

  /** The work of sealing a failure's client label to an account's inbox key: a lookup and a seal. */
  async #decoySeal(decoy: { id: string; inboxPublicKey: Uint8Array }): Promise<void> {
    await this.users.findById(decoy.id);
    await sealToPublicKey(decoy.inboxPublicKey, Buffer.alloc(32), `cv1|decoy|${decoy.id}`);
  }

  #reserve(a: Attempt): Promise<void> {
    return this.#throttle.reserve(a.key, a.ceiling);
  }

  /**
   * A correct attempt forgets the client's count and the account's: the owner getting in is not
   * held against their next attempt, whatever strangers were doing meanwhile.
   */
  async #succeeded(a: Attempt): Promise<void> {
    await this.#throttle.succeed(a.key);
    await this.#throttle.succeed(a.ceiling.key);
  }

  /**
   * A wrong passphrase from a signed-in session: someone holding the session (a borrowed or
   * stolen browser) guessing at it is what the owner should see, like a failed sign-in.
   */
  async #failed(action: AuditAction, session: SessionContext, requestId?: string, userAgent?: string): Promise<void> {
    await this.audit.record(action, session.userId, requestId, { userAgent, keys: session.keys });
  }

  /**
   * Ends a session that was just opened and must not be kept (a pending Google sign-in that
   * another request spent first): no logout event, nothing ever ran on it.
   */
  async discardSession(context: SessionContext): Promise<void> {
    await this.sessions.delete(context.sessionId);
    await this.forget({ sessionId: context.sessionId });
  }

  async #unlockWithPassphrase(
    user: { id: string; kdf_params: unknown; wrapped_vk_passphrase: Uint8Array; key_version: number },
    passphrase: string,
  ): Promise<Buffer | null> {
    // Weak or malformed stored parameters throw here on purpose: an edited row must not unlock.
    const key = await derivePassphraseKey(passphrase, user.kdf_params as KdfParams);
    try {
      return unwrapVaultKey(key, asBuffer(user.wrapped_vk_passphrase), { purpose: 'passphrase', userId: user.id, keyVersion: user.key_version });
    } catch (err) {
      if (err instanceof DecryptError) return null;
      throw err;
    }
  }

  /**
   * Wraps the vault key under a new passphrase, over the wrap `user` was read with only
   * (compare-and-swap): false, and nothing written, when another change replaced it meanwhile.
   */
  async #setPassphrase(user: { id: string; key_version: number; wrapped_vk_passphrase: Uint8Array }, vaultKey: Buffer, passphrase: string): Promise<boolean> {
    const params = newKdfParams();
    const key = await derivePassphraseKey(passphrase, params);
    const { id: userId, key_version: keyVersion } = user;
    return this.users.setPassphraseWrap(
      userId,
      params,
      wrapVaultKey(key, vaultKey, { purpose: 'passphrase', userId, keyVersion }),
      asBuffer(user.wrapped_vk_passphrase),
    );
  }

  async #openSession(userId: string, email: string, keyVersion: number, vaultKey: Buffer): Promise<NewSession> {
    const secret = newSessionSecret();
    const id = randomUUID();
    const expiresAt = new Date(Date.now() + this.opts.sessionTtlMs);
    await this.sessions.create({
      id,
      user_id: userId,
      lookup_id: sessionLookupId(secret),
      wrapped_vk: wrapVaultKey(sessionWrappingKey(secret), vaultKey, { purpose: 'session', userId, keyVersion }),
      expires_at: expiresAt,
    });
    return { cookie: encodeSessionCookie(secret), expiresAt, context: { userId, sessionId: id, email, keys: new KeyRing(vaultKey) } };
  }
}
