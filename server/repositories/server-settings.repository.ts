import type { Database } from '../db/index.js';

/** Server-wide settings (clear rows: model names, never vault data). */
export class ServerSettingsRepository {
  constructor(private readonly db: Database) {}

  async getAll(keys: string[]): Promise<Map<string, string>> {
    if (keys.length === 0) return new Map();
    const rows = await this.db.selectFrom('server_settings').select(['key', 'value']).where('key', 'in', keys).execute();
    return new Map(rows.map((r) => [r.key, r.value]));
  }

  /** `updatedBy`: the admin who changed it, or null for the server's own records. */
  async set(key: string, value: string, updatedBy: string | null): Promise<void> {
    await this.db
      .insertInto('server_settings')
      .values({ key, value, updated_by: updatedBy })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_by: updatedBy, updated_at: new Date() }))
      .execute();
  }
}
