import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { conflict, forbidden, notFound } from '../errors.js';
import type { InvitesRepository } from '../repositories/invites.repository.js';
import type { SessionContext } from './keyring.js';

export type SignupPolicy = 'open' | 'invite' | 'closed';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32: no I, L, O, U
const DEFAULT_DAYS = 7;

/** `CVI-XXXXX-XXXXX-XXXXX-XXXXX`: 100 random bits, typed or pasted by the invited person. */
export function newInviteCode(): string {
  const bytes = randomBytes(20);
  let s = '';
  for (const b of bytes) s += ALPHABET[b & 31];
  return `CVI-${s.match(/.{5}/g)!.join('-')}`;
}

/** The stored form: SHA-256 of the code without prefix, dashes, spaces or case. */
export function inviteCodeHash(code: string): Buffer {
  const canonical = code
    .toUpperCase()
    .replace(/^CVI/, '')
    .replace(/[\s-]+/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
  return createHash('sha256').update(`cv1|invite|${canonical}`).digest();
}

/** Invite codes: created by an admin account (or `npm run invite`), each good for one sign-up. */
export class InvitesService {
  constructor(
    private readonly repo: InvitesRepository,
    private readonly policy: SignupPolicy,
  ) {}

  /**
   * Creates a code; `by` null means the command line. The code is returned once, never stored.
   * Refused under SIGNUP=closed, where no code lets anyone register.
   */
  async create(by: string | null, days = DEFAULT_DAYS): Promise<{ id: string; code: string; expiresAt: Date }> {
    if (this.policy === 'closed') {
      throw conflict('Sign-up is closed on this server (SIGNUP=closed), so no invite code could be used. Set SIGNUP=invite to invite people.', 'signup_closed');
    }
    const code = newInviteCode();
    const id = randomUUID();
    const expiresAt = new Date(Date.now() + days * 86_400_000);
    await this.repo.create({ id, code_hash: inviteCodeHash(code), created_by: by, expires_at: expiresAt });
    return { id, code, expiresAt };
  }

  async createAsAdmin(session: SessionContext, days?: number) {
    await this.#requireAdmin(session);
    return this.create(session.userId, days);
  }

  async list(session: SessionContext) {
    await this.#requireAdmin(session);
    return (await this.repo.list()).map((r) => ({
      id: r.id,
      createdAt: r.created_at.toISOString(),
      expiresAt: new Date(r.expires_at).toISOString(),
      usedAt: r.used_at ? r.used_at.toISOString() : null,
    }));
  }

  async revoke(session: SessionContext, id: string): Promise<void> {
    await this.#requireAdmin(session);
    if ((await this.repo.delete(id)) === 0) throw notFound('Invite');
  }

  isAdmin(session: SessionContext): Promise<boolean> {
    return this.repo.isAdmin(session.userId);
  }

  async #requireAdmin(session: SessionContext): Promise<void> {
    if (!(await this.isAdmin(session))) throw forbidden('Only an admin account can manage invites.', 'not_admin');
  }
}
