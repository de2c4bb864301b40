import { sql } from 'kysely';
import type { Database } from '../db/index.js';

/** Security events only: what happened and to whom, never content. */
export type AuditAction =
  | 'register'
  | 'login'
  | 'login_failed'
  | 'logout'
  | 'passphrase_changed'
  | 'recovered'
  | 'recover_failed'
  | 'recovery_key_rotated'
  | 'session_revoked'
  | 'other_sessions_revoked'
  | 'export'
  | 'export_failed'
  | 'export_incomplete'
  | 'import'
  | 'integration_connected'
  | 'integration_disconnected'
  | 'integration_synced'
  | 'integration_sync_failed'
  | 'account_deleted'
  | 'summary_created'
  | 'token_created'
  | 'token_used'
  | 'token_revoked'
  | 'passphrase_change_failed'
  | 'recovery_key_rotation_failed'
  | 'account_deletion_failed'
  | 'google_linked'
  | 'google_unlinked';

export interface AuditRow {
  /** A bigserial: PGlite reads it as a number, node-postgres as a string. */
  id: string | number;
  action: string;
  created_at: Date;
  detail_sealed: Uint8Array | null;
}

export class AuditRepository {
  constructor(private readonly db: Database) {}

  async record(action: AuditAction, userId: string | null, requestId?: string): Promise<void> {
    await this.db
      .insertInto('audit_log')
      .values({ action, user_id: userId, request_id: requestId ?? null })
      .execute();
  }

  /** An event with a sealed detail, at the time its seal is bound to. */
  async recordSealed(action: AuditAction, userId: string, requestId: string | undefined, sealed: { at: Date; detail: Uint8Array }): Promise<void> {
    await this.db
      .insertInto('audit_log')
      .values({ action, user_id: userId, request_id: requestId ?? null, created_at: sealed.at, detail_sealed: sealed.detail })
      .execute();
  }

  /**
   * One user's events, newest first, after the event `afterId` (a keyset cursor: the row's own
   * timestamp is compared in SQL, so microseconds that a JS Date would drop are kept).
   */
  listForUser(userId: string, limit: number, afterId?: string): Promise<AuditRow[]> {
    return this.db
      .selectFrom('audit_log as a')
      .select(['a.id', 'a.action', 'a.created_at', 'a.detail_sealed'])
      .where('a.user_id', '=', userId)
      .$if(afterId !== undefined, (q) =>
        q.where(sql<boolean>`(a.created_at, a.id) < (select c.created_at, c.id from audit_log c where c.id = ${afterId!}::bigint and c.user_id = ${userId})`),
      )
      .orderBy('a.created_at', 'desc')
      .orderBy('a.id', 'desc')
      .limit(limit)
      .execute();
  }
}
