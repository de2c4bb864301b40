import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { DiscoveryCache, OAuthError, OAuthProvider, newFlowSecrets, readCallback, sameSecret } from '../../integrations/oauth/index.js';
import type { Config } from '../config.js';
import { conflict, notConfigured, unauthorized } from '../errors.js';
import { keyMac } from '../cluster/shared-limits.js';
import type { IntegrationsRepository } from '../repositories/integrations.repository.js';
import type { RateLimitsRepository } from '../repositories/rate-limits.repository.js';
import type { UsersRepository } from '../repositories/users.repository.js';
import type { AuditRecorder } from './activity.service.js';
import type { AuthService } from './auth.service.js';
import type { SessionContext } from './keyring.js';
import { THROTTLE_POLICY } from './throttle.js';

/** What the state cookie carries between `/api/auth/google` and its callback. */
export interface GoogleFlowState extends Record<string, unknown> {
  state: string;
  nonce: string;
  verifier: string;
  mode: 'signin' | 'link';
  userId?: string;
}

/** What `cv_pending` carries between the callback and the passphrase step. */
export interface PendingIdentity extends Record<string, unknown> {
  subMac: string;
  email?: string;
  /** Set when the Google identity is already linked to an account (unlock, not register). */
  userId?: string;
  /** Spent by the unlock or register that succeeds with this cookie: a copy of it opens nothing more. */
  nonce?: string;
  /** The cookie's expiry (ms), read back from the seal: how long a spent nonce must be remembered. */
  exp?: number;
}

/** The pieces of `rate_hits` a spent pending sign-in is kept in (RateLimitsRepository). */
export type SpentNonces = Pick<RateLimitsRepository, 'hit' | 'peek' | 'purge'>;

/** Kept a little past the cookie's own expiry, for clocks that differ between instances. */
const SPENT_MARGIN_MS = 60_000;
const PURGE_EVERY_MS = 10 * 60_000;

/** A failure of the redirect flow, reported as `/signin?error=<code>`. */
export class GoogleFlowError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Sign in with Google (OpenID Connect code flow with PKCE S256, state and nonce). A Google
 * identity says who someone is; it never unlocks a vault: a new identity sets a passphrase
 * (and gets a recovery key), a known one still unlocks with the passphrase.
 *
 * The Google `sub` is stored as HMAC-SHA256 under a key derived from SERVER_KEY over
 * `<issuer>|<sub>`: sign-in must find the account before any user key is available, and a copy
 * of the database alone then does not link vaults to Google accounts.
 */
export class GoogleAuthService {
  readonly #discovery: DiscoveryCache<OAuthProvider>;
  readonly #subKey: Buffer;
  readonly #nonceKey: (nonce: string) => Buffer;
  #purgedAt = Date.now();

  constructor(
    private readonly config: Config,
    private readonly repo: IntegrationsRepository,
    private readonly users: UsersRepository,
    private readonly auth: AuthService,
    private readonly deps: {
      /** Link and unlink land in the owner's activity. */
      audit: AuditRecorder;
      /**
       * Spent `cv_pending` nonces, in the database so that every instance sharing it refuses a
       * spent cookie (the sealed cookie itself is stateless); expired ones are purged.
       */
      spent: SpentNonces;
    },
  ) {
    this.#discovery = new DiscoveryCache((issuer) => OAuthProvider.discover(issuer, this.client, this.policy));
    this.#subKey = Buffer.from(hkdfSync('sha256', config.serverKey, Buffer.alloc(0), 'cv1|google-sub', 32));
    this.#nonceKey = keyMac(config.serverKey, 'google-pending-spent');
  }

  get configured(): boolean {
    return !!this.config.GOOGLE_CLIENT_ID;
  }

  get policy() {
    return { allowHttpLoopback: this.config.ALLOW_HTTP_LOOPBACK };
  }

  get client() {
    return { clientId: this.config.GOOGLE_CLIENT_ID ?? '', clientSecret: this.config.GOOGLE_CLIENT_SECRET };
  }

  /** The provider as this app's OAuth client (shared with the Google Health connector). */
  discover(): Promise<OAuthProvider> {
    if (!this.configured) throw notConfigured('Google sign-in');
    return this.#discovery.get(this.config.GOOGLE_ISSUER);
  }

  get redirectUri(): string {
    return new URL('/api/auth/google/callback', this.config.publicUrl).toString();
  }

  subMac(issuer: string, sub: string): Buffer {
    return createHmac('sha256', this.#subKey).update(`${issuer}|${sub}`).digest();
  }

  async begin(mode: 'signin' | 'link', userId?: string): Promise<{ url: string; flow: GoogleFlowState }> {
    const provider = await this.discover();
    const s = await newFlowSecrets();
    const flow: GoogleFlowState = { state: s.state, nonce: s.nonce, verifier: s.verifier, mode, ...(userId ? { userId } : {}) };
    const url = provider.authorizationUrl({
      redirect_uri: this.redirectUri,
      scope: 'openid email',
      state: flow.state,
      nonce: flow.nonce,
      code_challenge: s.challenge,
      code_challenge_method: 'S256',
    });
    return { url, flow };
  }

  /**
   * Checks state, exchanges the code (with the verifier) and has the library verify the
   * id_token (signature against Google's JWKS, issuer, audience, expiry, nonce).
   * @throws GoogleFlowError with a code for `/signin?error=`.
   */
  async complete(query: Record<string, unknown>, flow: GoogleFlowState | null): Promise<{ subMac: Buffer; email?: string; userId?: string }> {
    const cb = readCallback(query);
    if (!flow || !sameSecret(cb.state, flow.state))
      throw new GoogleFlowError('state_mismatch', 'The sign-in could not be matched to this browser. Start again.');
    if ('error' in cb) {
      throw cb.error === 'access_denied'
        ? new GoogleFlowError('access_denied', 'Google sign-in was cancelled.')
        : new GoogleFlowError('provider_error', 'Google could not complete the sign-in.');
    }
    try {
      const provider = await this.discover();
      const { claims } = await provider.exchangeCode(cb.params, {
        redirectUri: this.redirectUri,
        verifier: flow.verifier,
        state: flow.state,
        nonce: flow.nonce,
      });
      if (!claims) throw new OAuthError('invalid_id_token', 'Google sent no identity token.');
      const issuer = provider.metadata.issuer;
      const subMac = this.subMac(issuer, claims.sub);
      const email = typeof claims.email === 'string' && claims.email_verified === true ? claims.email : undefined;
      const known = await this.repo.findUserByGoogleSub(subMac);
      return { subMac, email, userId: known?.id };
    } catch (err) {
      if (err instanceof OAuthError) throw new GoogleFlowError(err.code === 'invalid_id_token' ? 'invalid_id_token' : 'provider_error', err.message);
      throw err;
    }
  }

  /** Links a verified Google identity to a signed-in account. */
  async link(userId: string, subMac: Buffer, requestId?: string, userAgent?: string): Promise<void> {
    const holder = await this.repo.findUserByGoogleSub(subMac);
    if (holder && holder.id !== userId) throw new GoogleFlowError('google_already_linked', 'This Google account is already linked to another vault.');
    if (!(await this.repo.setGoogleSub(userId, subMac)))
      throw new GoogleFlowError('google_already_linked', 'This Google account is already linked to another vault.');
    // The update matches no row when the account was deleted while the browser was at Google.
    if (!(await this.repo.hasGoogleSub(userId))?.linked) throw new GoogleFlowError('account_not_found', 'This account no longer exists.');
    await this.deps.audit.record('google_linked', userId, requestId, { userAgent });
  }

  async unlink(session: { userId: string; keys?: SessionContext['keys'] }, requestId?: string, userAgent?: string): Promise<void> {
    const wasLinked = await this.isLinked(session.userId);
    await this.repo.setGoogleSub(session.userId, null);
    if (wasLinked) await this.deps.audit.record('google_unlinked', session.userId, requestId, { userAgent, keys: session.keys });
  }

  async isLinked(userId: string): Promise<boolean> {
    return !!(await this.repo.hasGoogleSub(userId))?.linked;
  }

  /** A fresh pending sign-in for `cv_pending`, with the nonce its first success spends. */
  pending(r: { subMac: Buffer; email?: string; userId?: string }): PendingIdentity {
    return {
      subMac: r.subMac.toString('base64'),
      ...(r.email ? { email: r.email } : {}),
      ...(r.userId ? { userId: r.userId } : {}),
      nonce: randomBytes(16).toString('base64url'),
    };
  }

  async #isSpent(pending: PendingIdentity & { nonce: string }): Promise<boolean> {
    return (await this.deps.spent.peek(this.#nonceKey(pending.nonce))).hits > 0;
  }

  /** Marks the nonce spent; false when another request spent it first. */
  async #spend(pending: PendingIdentity & { nonce: string }): Promise<boolean> {
    const ttl = Math.max(0, (pending.exp ?? Date.now()) - Date.now()) + SPENT_MARGIN_MS;
    const { hits } = await this.deps.spent.hit(this.#nonceKey(pending.nonce), ttl);
    if (Date.now() - this.#purgedAt > PURGE_EVERY_MS) {
      this.#purgedAt = Date.now();
      // Embedded PGlite has no shared rate-limit store purging `rate_hits`: expired marks go here.
      void this.deps.spent.purge(THROTTLE_POLICY.forgetMs).catch(() => {});
    }
    return hits === 1;
  }

  /** First Google sign-in: creates the vault with a passphrase and links the identity. */
  async register(pending: PendingIdentity | null, passphrase: string, requestId?: string, inviteCode?: string) {
    if (!pending?.nonce || (await this.#isSpent({ ...pending, nonce: pending.nonce })))
      throw unauthorized('Sign in with Google again to continue.', 'no_pending_sign_in');
    if (pending.userId) throw conflict('This Google account already has a vault: unlock it with your passphrase.', 'already_registered');
    const subMac = Buffer.from(pending.subMac, 'base64');
    if (await this.repo.findUserByGoogleSub(subMac))
      throw conflict('This Google account already has a vault: unlock it with your passphrase.', 'already_registered');
    const email = pending.email ?? `google-${subMac.subarray(0, 8).toString('hex')}@accounts.invalid`;
    let r;
    try {
      r = await this.auth.register(email, passphrase, requestId, inviteCode);
    } catch (err) {
      if ((err as { code?: string }).code === 'email_taken') {
        throw conflict('An account with this email already exists. Sign in with your passphrase, then link Google in Settings.', 'email_taken');
      }
      throw err;
    }
    if (!(await this.repo.setGoogleSub(r.user.id, subMac))) {
      // Lost a race with a second tab registering the same identity: undo ours.
      await this.users.delete(r.user.id);
      throw conflict('This Google account already has a vault: unlock it with your passphrase.', 'already_registered');
    }
    // A second register with the same cookie already lost at setGoogleSub above.
    await this.#spend({ ...pending, nonce: pending.nonce });
    return r;
  }

  /** Later Google sign-ins: the passphrase unlocks, throttled exactly like a login. */
  async unlock(pending: PendingIdentity | null, passphrase: string, requestId?: string, userAgent?: string, address?: string) {
    const again = () => unauthorized('Sign in with Google again to continue.', 'no_pending_sign_in');
    if (!pending?.userId || !pending.nonce) throw again();
    const p = { ...pending, nonce: pending.nonce };
    if (await this.#isSpent(p)) throw again();
    const user = await this.users.findById(pending.userId);
    if (!user || !user.google_sub || !sameSecret(Buffer.from(user.google_sub).toString('base64'), pending.subMac)) throw again();
    const r = await this.auth.login(user.email, passphrase, requestId, userAgent, address);
    // Spent only by a success, so a mistyped passphrase does not send the person back to Google;
    // two unlocks racing with one cookie both got here, and only the first keeps its session.
    if (!(await this.#spend(p))) {
      await this.auth.discardSession(r.session.context);
      throw again();
    }
    return r;
  }
}
