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
  | 'export'
  | 'import'
  | 'integration_connected'
  | 'integration_disconnected'
  | 'account_deleted'
  | 'summary_created'
  | 'token_created'
  | 'token_revoked';

export class AuditRepository {
  constructor(private readonly db: Database) {}

  async record(action: AuditAction, userId: string | null, requestId?: string): Promise<void> {
    await this.db
      .insertInto('audit_log')
      .values({ action, user_id: userId, request_id: requestId ?? null })
      .execute();
  }
}
