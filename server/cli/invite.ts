/**
 * `npm run invite`: prints a new single-use invite code for SIGNUP=invite, from the same
 * DATA_DIR / DATABASE_URL the server uses. With the embedded database (PGlite allows one
 * process) stop the server first, or create invites in Settings as an admin account: while the
 * server holds the data directory this refuses (exit 1) instead of writing a code it never sees.
 *
 *   npm run invite                       a code valid for 7 days
 *   npm run invite -- --days 30          valid for 30 days (1 to 90)
 *   npm run invite -- --admin a@b.org    makes that existing account an admin (and prints no code)
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.js';
import { DataDirLockedError } from '../db/data-dir-lock.js';
import { AppError } from '../errors.js';
import { migrateToLatest, openDatabase } from '../db/index.js';
import { InvitesRepository } from '../repositories/invites.repository.js';
import { normalizeEmail } from '../services/auth.service.js';
import { InvitesService } from '../services/invites.service.js';

const USAGE = 'Usage: npm run invite [-- --days N]   or   npm run invite -- --admin EMAIL';

function options(): { days?: string; admin?: string } | undefined {
  try {
    return parseArgs({ options: { days: { type: 'string' }, admin: { type: 'string' } } }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message.split('\n')[0]}\n${USAGE}\n`);
    return undefined;
  }
}

async function main(): Promise<number> {
  const values = options();
  if (!values) return 2;
  if (values.admin !== undefined && values.days !== undefined) {
    process.stderr.write(`--admin makes an account an admin and creates no invite: give it without --days.\n${USAGE}\n`);
    return 2;
  }
  const days = values.days === undefined ? 7 : Number(values.days);
  if (!Number.isInteger(days) || days < 1 || days > 90) {
    process.stderr.write('--days must be a whole number from 1 to 90\n');
    return 2;
  }
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  let db;
  try {
    ({ db } = await openDatabase({ url: config.DATABASE_URL, dataDir: config.dataDir, lockHolder: 'npm run invite' }));
  } catch (err) {
    if (err instanceof DataDirLockedError) {
      // A code written behind the server's back would be lost: the server never sees it.
      process.stderr.write(
        `${err.withAdvice('stop it first, or create the invite while it runs: sign in as an admin account and use Settings → Invites (POST /api/invites).')}\n`,
      );
      return 1;
    }
    throw err;
  }
  try {
    await migrateToLatest(db);
    const repo = new InvitesRepository(db);
    if (values.admin !== undefined) {
      if (!(await repo.setAdmin(normalizeEmail(values.admin)))) {
        process.stderr.write('No account has that email.\n');
        return 1;
      }
      // Only what was asked for: a code made here too would be a live invite nobody meant.
      process.stderr.write('That account is now an admin: it can create invites in Settings.\n');
      return 0;
    }
    let invite;
    try {
      invite = await new InvitesService(repo, config.SIGNUP).create(null, days);
    } catch (err) {
      // SIGNUP=closed: no code could be used, so none is made.
      if (!(err instanceof AppError)) throw err;
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    if (config.SIGNUP !== 'invite') process.stderr.write(`Note: SIGNUP is "${config.SIGNUP}"; invite codes are only asked for with SIGNUP=invite.\n`);
    process.stderr.write(`Single-use invite, valid until ${invite.expiresAt.toISOString()}:\n`);
    process.stdout.write(`${invite.code}\n`);
    return 0;
  } finally {
    await db.destroy();
  }
}

process.exitCode = await main().catch((err: Error) => {
  process.stderr.write(`Invite failed: ${err.message}\n`);
  return 1;
});
