import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import tar from 'tar-stream';
import { ageDecryptStream } from '../../crypto/index.js';
import { EncryptedSpool } from '../export/spool.js';
import type { ObjectStore } from '../storage/object-store.js';
import { BACKUP_FORMAT, BACKUP_VERSION, type BackupDatabase } from './backup.js';
import { pgRestore } from './pg-tools.js';

/** A refusal to say as it is (no stack): the install is not empty, the key does not fit, … */
export class RestoreError extends Error {}

export interface RestoreTarget {
  database: BackupDatabase;
  files: ObjectStore;
  /** DATA_DIR: `server.key` is written here unless SERVER_KEY is set. */
  dataDir: string;
  /** SERVER_KEY from the environment, when the operator sets it there. */
  serverKeyFromEnv?: Buffer;
}

/** Refuses an install that holds anything: a restore never merges into or overwrites data. */
export async function assertEmpty(t: RestoreTarget): Promise<void> {
  if (t.database.kind === 'postgres') {
    const c = new pg.Client({ connectionString: t.database.url });
    await c.connect();
    try {
      const r = await c.query<{ n: string }>(`select count(*) as n from information_schema.tables where table_schema = 'public'`);
      if (Number(r.rows[0]!.n) > 0)
        throw new RestoreError(
          `Refusing to restore: the database already has ${r.rows[0]!.n} tables. Restore into a new, empty database (createdb) and point DATABASE_URL at it.`,
        );
    } finally {
      await c.end();
    }
  } else if (existsSync(path.join(t.database.dataDir, 'pg'))) {
    throw new RestoreError(`Refusing to restore: ${path.join(t.database.dataDir, 'pg')} already holds a database. Restore into an empty DATA_DIR.`);
  }
  for await (const o of t.files.list('')) {
    void o;
    throw new RestoreError('Refusing to restore: the file store already holds files. Restore into an empty DATA_DIR or bucket.');
  }
}

/** Said for every broken stream (age's "invalid tag", a short tar, a missing end marker). */
const DAMAGED = 'The backup is damaged or cut off (while it was written, copied or stored); nothing was restored. Use another backup.';

/** A source that cannot be read is not a wrong identity: say what is wrong with the source. */
function unreadable(err: NodeJS.ErrnoException): RestoreError {
  if (err.code === 'ENOENT') return new RestoreError('The backup was not found: there is no such file or object.');
  if (err.code === 'EISDIR') return new RestoreError('The backup named is a directory: name the .tar.age file in it.');
  return new RestoreError(`The backup could not be read (${err.code ?? err.name}).`);
}

/**
 * Reads a backup (see backup.ts) into an empty install: checks it is one, decrypts it with the
 * operator's age identity, loads the database, writes the file objects and the server key. A
 * backup cut short or altered (age's authentication fails, no `end.json`, or counts that
 * differ) is an error, and what was written before it is noticed is removed again: the
 * database is loaded only once the whole stream has been read and authenticated.
 */
export async function restoreBackup(openSource: () => Readable, identity: string, t: RestoreTarget): Promise<{ files: number; fileBytes: number }> {
  await assertEmpty(t);
  // Opened only now, with its error listener at once: a missing file must not be an unhandled error.
  const source = openSource();
  let sourceError: NodeJS.ErrnoException | undefined;
  source.once('error', (e) => (sourceError ??= e));
  let plain: Readable;
  try {
    plain = await ageDecryptStream(source, { identity });
  } catch {
    if (sourceError) throw unreadable(sourceError);
    throw new RestoreError('This identity does not open the backup, or it is not an age-encrypted backup.');
  }
  let streamBroken = false;
  plain.once('error', () => (streamBroken = true));
  const extract = tar.extract();
  extract.once('error', () => (streamBroken = true));
  const extracting = pipeline(plain, extract);
  extracting.catch(() => {});
  const pgStaging = t.database.kind === 'pglite' ? path.join(t.database.dataDir, `pg.restoring-${process.pid}`) : undefined;
  // pg_restore commits as it goes, so the dump waits (sealed under a throwaway key) until the
  // stream's last age chunk has been authenticated.
  const dumpSpool = t.database.kind === 'postgres' ? new EncryptedSpool(path.join(t.dataDir, 'tmp')) : undefined;
  const written: { keyFile?: string; objects: string[] } = { objects: [] };
  let manifest: { format?: string; version?: number; database?: string } | undefined;
  let end: { files: number; fileBytes: number } | undefined;
  let databaseRead = false;
  let files = 0;
  let fileBytes = 0;
  const text = async (s: AsyncIterable<unknown>) => {
    const parts: Buffer[] = [];
    for await (const c of s) parts.push(c as Buffer);
    return Buffer.concat(parts).toString('utf8');
  };
  try {
    for await (const entry of extract) {
      const name = entry.header.name;
      if (!manifest) {
        if (name !== 'manifest.json') throw new RestoreError('This is not a Context Vault backup (no manifest).');
        manifest = JSON.parse(await text(entry));
        if (manifest!.format !== BACKUP_FORMAT || manifest!.version !== BACKUP_VERSION)
          throw new RestoreError('This is not a Context Vault backup of a version this server reads.');
        if (manifest!.database !== t.database.kind) {
          throw new RestoreError(
            `This backup holds a ${manifest!.database} database; this install uses ${t.database.kind}. Restore it with the same kind (DATABASE_URL set for postgres, unset for pglite).`,
          );
        }
        continue;
      }
      if (name === 'server.key') {
        written.keyFile = await restoreServerKey(Buffer.from((await text(entry)).trim(), 'base64'), t);
      } else if (name === 'database.pgdump' && dumpSpool) {
        await dumpSpool.open();
        for await (const chunk of entry) await dumpSpool.write(chunk as Buffer);
        await dumpSpool.close();
        databaseRead = true;
      } else if ((name === 'pg/' || name.startsWith('pg/')) && pgStaging) {
        await extractPgEntry(pgStaging, name, entry);
        databaseRead = true;
      } else if (name.startsWith('files/')) {
        const key = name.slice('files/'.length);
        written.objects.push(key);
        await pipeline(entry, t.files.createWriteStream(key));
        files++;
        fileBytes += entry.header.size ?? 0;
      } else if (name === 'end.json') {
        end = JSON.parse(await text(entry));
      } else {
        throw new RestoreError(`Unexpected entry in the backup: ${JSON.stringify(name.slice(0, 80))}`);
      }
    }
    await extracting;
    if (!databaseRead || !end || end.files !== files || end.fileBytes !== fileBytes) throw new RestoreError(DAMAGED);
    if (dumpSpool && t.database.kind === 'postgres') {
      const r = pgRestore(t.database.url);
      await Promise.all([pipeline(dumpSpool.read(), r.stdin), r.done]);
    }
    if (pgStaging) await rename(pgStaging, path.join(t.dataDir, 'pg'));
    return { files, fileBytes };
  } catch (err) {
    extract.destroy();
    await undo(t, pgStaging, written);
    if (sourceError) throw unreadable(sourceError);
    if (streamBroken && !(err instanceof RestoreError)) throw new RestoreError(DAMAGED);
    throw err;
  } finally {
    await dumpSpool?.dispose();
  }
}

/** Takes back what a failed restore wrote, so that the install is as empty as before (and a retry is let in). */
async function undo(t: RestoreTarget, pgStaging: string | undefined, written: { keyFile?: string; objects: string[] }): Promise<void> {
  if (pgStaging) await rm(pgStaging, { recursive: true, force: true });
  for (const key of written.objects) await t.files.delete(key).catch(() => {});
  if (written.keyFile) await rm(written.keyFile, { force: true });
}

/** Checks or writes the backup's server key; returns the file when it wrote one. */
async function restoreServerKey(key: Buffer, t: RestoreTarget): Promise<string | undefined> {
  if (key.length !== 32) throw new RestoreError("The backup's server key is damaged.");
  if (t.serverKeyFromEnv) {
    // Connector tokens were sealed under the backup's key: a different SERVER_KEY cannot open them.
    if (!t.serverKeyFromEnv.equals(key))
      throw new RestoreError(
        'SERVER_KEY differs from the key in this backup: set SERVER_KEY to the backed-up key (or unset it to use the restored server.key).',
      );
    return undefined;
  }
  const file = path.join(t.dataDir, 'server.key');
  if (existsSync(file)) {
    const have = Buffer.from((await readFile(file, 'utf8')).trim().replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (have.equals(key)) return undefined;
    throw new RestoreError(`Refusing to restore: ${file} holds another server key. Restore into an empty DATA_DIR.`);
  }
  await mkdir(t.dataDir, { recursive: true, mode: 0o700 });
  await writeFile(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return file;
}

async function extractPgEntry(root: string, name: string, entry: AsyncIterable<unknown> & { header: tar.Header; resume(): void }): Promise<void> {
  const rel = name.slice('pg/'.length);
  const parts = rel.split('/').filter(Boolean);
  if (parts.some((p) => p === '..' || p === '.' || p.includes('\\'))) throw new RestoreError('The backup names a path outside the database directory.');
  const target = path.join(root, ...parts);
  if (entry.header.type === 'directory') {
    await mkdir(target, { recursive: true, mode: 0o700 });
    entry.resume();
    return;
  }
  if (entry.header.type !== 'file') throw new RestoreError('The backup holds a link or device in the database directory.');
  await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
  await pipeline(entry, createWriteStream(target, { mode: 0o600, flags: 'wx' }));
}
