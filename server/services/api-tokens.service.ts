import { randomUUID } from 'node:crypto';
import {
  DecryptError,
  apiTokenLookupId,
  apiTokenWrappingKey,
  decodeApiToken,
  encodeApiToken,
  newApiTokenSecret,
  unwrapVaultKey,
  wrapVaultKey,
} from '../../crypto/index.js';
import { apiTokenName } from '../codec/index.js';
import { asBuffer } from '../db/index.js';
import { conflict, forbidden, notFound } from '../errors.js';
import type { ApiTokensRepository } from '../repositories/api-tokens.repository.js';
import type { AuditRecorder } from './activity.service.js';
import { KeyRing, TOKEN_SCOPES, type SessionContext, type TokenScope } from './keyring.js';
import type { ForgetMatch } from './session-work.js';

export const DEFAULT_TOKEN_DAYS = 90;
const MAX_TOKENS_PER_USER = 50;
/** `last_used_at` moves at most this often, to keep a write off every scripted request. */
const TOUCH_EVERY_MS = 60_000;
/** A token used again after this long idle is a new "token used" event in the owner's activity. */
const USE_EVENT_GAP_MS = 60 * 60_000;
const DAY_MS = 86_400_000;

export interface TokenSummary {
  id: string;
  name: string;
  scopes: TokenScope[];
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string;
}

const parseScopes = (text: string): TokenScope[] => text.split(' ').filter((s): s is TokenScope => (TOKEN_SCOPES as readonly string[]).includes(s));

/**
 * Personal API tokens: each wraps its own copy of the vault key, like a session, so a script can
 * use the vault without a browser. Never cached: a revoked or expired token is refused on the
 * very next request, on every instance.
 */
export class ApiTokensService {
  constructor(
    private readonly tokens: ApiTokensRepository,
    private readonly audit: AuditRecorder,
    /** Stops what a revoked token still has running, here and on the other instances (AuthService.forget). */
    private readonly revoked: (match: ForgetMatch) => Promise<void> = async () => {},
  ) {}

  async create(
    session: SessionContext,
    input: { name: string; scopes: TokenScope[]; expiresInDays?: number },
    requestId?: string,
  ): Promise<{ id: string; token: string; expiresAt: Date }> {
    // The route already refuses token-authenticated callers; this keeps the rule if it is ever reused.
    if (session.apiToken) throw forbidden('An API token cannot create tokens.', 'token_not_allowed');
    const tooMany = () => conflict(`At most ${MAX_TOKENS_PER_USER} tokens per account: revoke one first.`, 'too_many_tokens');
    // A cheap early answer; the insert checks again under a per-user lock (creates at once).
    if ((await this.tokens.countForUser(session.userId)) >= MAX_TOKENS_PER_USER) throw tooMany();
    const secret = newApiTokenSecret();
    const id = randomUUID();
    const expiresAt = new Date(Date.now() + (input.expiresInDays ?? DEFAULT_TOKEN_DAYS) * DAY_MS);
    const scopes = TOKEN_SCOPES.filter((s) => input.scopes.includes(s));
    const stored = await this.tokens.createCapped(
      {
        id,
        user_id: session.userId,
        lookup_id: apiTokenLookupId(secret),
        wrapped_vk: wrapVaultKey(apiTokenWrappingKey(secret), session.keys.vaultKey, {
          purpose: 'token',
          userId: session.userId,
          keyVersion: await this.#keyVersion(session),
        }),
        name_sealed: apiTokenName.seal(session.keys, { userId: session.userId, id, version: 1 }, input.name),
        scopes: scopes.join(' '),
        expires_at: expiresAt,
      },
      MAX_TOKENS_PER_USER,
    );
    if (!stored) {
      secret.fill(0);
      throw tooMany();
    }
    await this.audit.record('token_created', session.userId, requestId);
    const token = encodeApiToken(secret);
    secret.fill(0);
    return { id, token, expiresAt };
  }

  async list(session: SessionContext): Promise<TokenSummary[]> {
    const rows = await this.tokens.listForUser(session.userId);
    return rows.map((r) => ({
      id: r.id,
      name: apiTokenName.open(session.keys, { userId: session.userId, id: r.id, version: 1 }, asBuffer(r.name_sealed)),
      scopes: parseScopes(r.scopes),
      createdAt: r.created_at.toISOString(),
      lastUsedAt: r.last_used_at?.toISOString() ?? null,
      expiresAt: new Date(r.expires_at).toISOString(),
    }));
  }

  async revoke(session: SessionContext, id: string, requestId?: string): Promise<void> {
    if ((await this.tokens.delete(id, session.userId)) === 0) throw notFound('Token');
    await this.revoked({ sessionId: `token:${id}` });
    await this.audit.record('token_revoked', session.userId, requestId);
  }

  /**
   * Resolves `Authorization: Bearer <token>` to an unlocked context, or null when the token is
   * malformed, unknown, revoked or expired (the caller answers 401 without saying which).
   */
  async authenticate(token: string, userAgent?: string): Promise<SessionContext | null> {
    const secret = decodeApiToken(token);
    if (!secret) return null;
    const row = await this.tokens.findLive(apiTokenLookupId(secret));
    if (!row) return null;
    let vaultKey: Buffer;
    try {
      vaultKey = unwrapVaultKey(apiTokenWrappingKey(secret), asBuffer(row.wrapped_vk), { purpose: 'token', userId: row.user_id, keyVersion: row.key_version });
    } catch (err) {
      if (err instanceof DecryptError) return null;
      throw err;
    } finally {
      secret.fill(0);
    }
    const idle = row.last_used_at ? Date.now() - row.last_used_at.getTime() : Infinity;
    if (idle > TOUCH_EVERY_MS) await this.tokens.touch(row.id);
    // The activity list says a token was used, not every request it made: one event per stretch of use.
    if (idle > USE_EVENT_GAP_MS) await this.audit.record('token_used', row.user_id, undefined, { userAgent, keys: new KeyRing(vaultKey) });
    return {
      userId: row.user_id,
      sessionId: `token:${row.id}`,
      email: row.email,
      keys: new KeyRing(vaultKey),
      apiToken: { id: row.id, scopes: parseScopes(row.scopes) },
    };
  }

  /**
   * Ends every token of a user (account recovery: whoever held the old passphrase may hold
   * these); the recovery stops their running work itself.
   */
  async revokeAll(userId: string): Promise<void> {
    await this.tokens.deleteAllForUser(userId);
  }

  async #keyVersion(session: SessionContext): Promise<number> {
    const v = await this.tokens.keyVersion(session.userId);
    if (v === undefined) throw notFound('Account');
    return v;
  }
}
