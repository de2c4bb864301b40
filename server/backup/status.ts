import type { ServerSettingsRepository } from '../repositories/server-settings.repository.js';

/**
 * When the last backup completed, kept in `server_settings` by `npm run backup` (its own
 * process) and read by the server at scrape time for `cv_backup_last_success_timestamp_seconds`
 * and the "backups stale" alert. A time only: no name, target or size.
 */
const KEY = 'backup.last_success_at';

export async function recordBackupSuccess(settings: ServerSettingsRepository, at: Date): Promise<void> {
  await settings.set(KEY, at.toISOString(), null);
}

export async function lastBackupSuccess(settings: ServerSettingsRepository): Promise<Date | null> {
  const value = (await settings.getAll([KEY])).get(KEY);
  const at = value ? new Date(value) : null;
  return at && !Number.isNaN(at.getTime()) ? at : null;
}
