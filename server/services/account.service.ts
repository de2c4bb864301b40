import type { FastifyBaseLogger } from 'fastify';
import { unauthorized } from '../errors.js';
import type { FileStore } from '../files/store.js';
import type { AuditRepository } from '../repositories/audit.repository.js';
import type { ExportRepository } from '../repositories/export.repository.js';
import type { AuthService } from './auth.service.js';
import type { SessionContext } from './keyring.js';

/** Deleting an account: every row and every stored file of the user, after the passphrase. */
export class AccountService {
  constructor(
    private readonly auth: AuthService,
    private readonly rows: ExportRepository,
    private readonly audit: AuditRepository,
    private readonly store: FileStore,
    private readonly removeImports: (userId: string) => Promise<void>,
    private readonly log: FastifyBaseLogger,
  ) {}

  async delete(session: SessionContext, passphrase: string, requestId?: string, userAgent?: string): Promise<void> {
    if (!(await this.auth.verifyPassphrase(session, passphrase, { action: 'account_deletion_failed', requestId, userAgent }))) {
      throw unauthorized('The passphrase is incorrect.', 'invalid_credentials');
    }
    // Rows first: once they are gone nothing points at the blobs, and the blobs were only ever
    // ciphertext under keys that went with the rows.
    await this.rows.deleteUser(session.userId);
    await this.auth.forget({ userId: session.userId, tokens: true });
    for (const [what, remove] of [
      ['files', () => this.store.removeUser(session.userId)],
      ['imports', () => this.removeImports(session.userId)],
    ] as const) {
      await remove().catch((err: Error) =>
        this.log.error({ err: { name: err.name, code: (err as { code?: string }).code }, what }, "could not remove a deleted account's files"),
      );
    }
    // Kept without a user id: that an account was deleted, when, by which request. Nothing else.
    await this.audit.record('account_deleted', null, requestId);
  }
}
