import { createReadStream, existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql } from 'kysely';
import tar from 'tar-stream';
import { ageEncryptStream } from '../../crypto/index.js';
import { openDatabase } from '../db/index.js';
import { EncryptedSpool } from '../export/spool.js';
import type { ObjectStore } from '../storage/object-store.js';
import { pgDump } from './pg-tools.js';

export const BACKUP_FORMAT = 'context-vault-backup';
export const BACKUP_VERSION = 1;

export type BackupDatabase = { kind: 'postgres'; url: string } | { kind: 'pglite'; dataDir: string };

export interface BackupSource {
  database: BackupDatabase;
  /** The file store's `files` area (import staging is transient and left out). */
  files: ObjectStore;
  serverKey: Buffer;
  /** For spooling the database dump (encrypted under a throwaway key while it waits). */
  spoolDir: string;
}

export interface BackupSummary {
  database: BackupDatabase['kind'];
  files: number;
  fileBytes: number;
}

/**
 * One backup as a tar stream, encrypted with age to the operator's recipient on its way out:
 *
 *   manifest.json       format, version, database kind, when
 *   server.key          SERVER_KEY (it opens only connector tokens; see SECURITY.md)
 *   database.pgdump     PostgreSQL: pg_dump's custom format, one consistent snapshot
 *   pg/…                PGlite: its data directory, copied closed (so quiesced and checkpointed)
 *   files/<user>/<id>   every encrypted file object, as stored (already ciphertext)
 *   end.json            counts, so that a restore can tell a cut-off backup from a whole one
 *
 * The database is taken first, then the files: a file added meanwhile is only an extra object,
 * and files are removed only after their rows (trash purge, account deletion) — see
 * docs/self-host.md for the one window this leaves with a running PostgreSQL server.
 */
export async function writeBackup(src: BackupSource, recipient: string, sink: NodeJS.WritableStream & { destroy(e?: Error): void }): Promise<BackupSummary> {
  const pack = tar.pack();
  const mtime = new Date();
  const entry = async (header: Partial<tar.Header> & { name: string }, body?: AsyncIterable<unknown> | Iterable<unknown>) => {
    let settle!: (err?: Error | null) => void;
    const finished = new Promise<void>((resolve, reject) => (settle = (err) => (err ? reject(err) : resolve())));
    const w = pack.entry({ mode: 0o600, mtime, ...header } as tar.Header, (err) => settle(err));
    if (body) {
      for await (const chunk of body) if (!w.write(chunk as Buffer)) await once(w, 'drain');
    }
    w.end(() => {});
    await finished;
  };
  const json = (v: unknown) => Buffer.from(`${JSON.stringify(v, null, 2)}\n`);

  const summary: BackupSummary = { database: src.database.kind, files: 0, fileBytes: 0 };
  const produce = async () => {
    const manifest = json({ format: BACKUP_FORMAT, version: BACKUP_VERSION, database: src.database.kind, createdAt: mtime.toISOString() });
    await entry({ name: 'manifest.json', size: manifest.length }, [manifest]);
    const key = Buffer.from(`${src.serverKey.toString('base64')}\n`);
    await entry({ name: 'server.key', size: key.length }, [key]);
    if (src.database.kind === 'postgres') await postgresEntry(src.database.url, src.spoolDir, entry);
    else await pgliteEntries(src.database.dataDir, entry);
    for await (const o of src.files.list('')) {
      await entry({ name: `files/${o.key}`, size: o.size }, src.files.createReadStream(o.key));
      summary.files++;
      summary.fileBytes += o.size;
    }
    const end = json({ files: summary.files, fileBytes: summary.fileBytes });
    await entry({ name: 'end.json', size: end.length }, [end]);
    pack.finalize();
  };
  const producing = produce().catch((err: Error) => {
    pack.destroy(err);
    throw err;
  });
  const encrypted: Readable = await ageEncryptStream(pack, { recipient });
  await Promise.all([pipeline(encrypted, sink), producing]);
  return summary;
}

/** A source with no Context Vault install in it: backing it up would only rotate good backups out. */
export class BackupSourceError extends Error {}

/**
 * Refuses a source that is not an install in use: no database, one never migrated, or one
 * without a single account (a new database behind a mistyped DATABASE_URL or DATA_DIR).
 */
export async function assertInstall(database: BackupDatabase): Promise<void> {
  const where = database.kind === 'postgres' ? 'the database at DATABASE_URL' : `DATA_DIR ${database.dataDir}`;
  // Opening PGlite on a directory without a cluster would create one.
  if (database.kind === 'pglite' && !existsSync(path.join(database.dataDir, 'pg', 'PG_VERSION')))
    throw new BackupSourceError(`Refusing to back up: ${where} holds no Context Vault database.`);
  const { db } = await openDatabase(database.kind === 'postgres' ? { url: database.url } : { dataDir: database.dataDir });
  try {
    const table = await sql<{ t: string | null }>`select to_regclass('public.users')::text as t`.execute(db);
    if (!table.rows[0]?.t) throw new BackupSourceError(`Refusing to back up: ${where} holds no Context Vault tables (never started a server?).`);
    const users = await sql<{ n: number }>`select count(*)::int as n from users`.execute(db);
    if (!users.rows[0]?.n) throw new BackupSourceError(`Refusing to back up: ${where} has no accounts, so there is nothing to keep.`);
  } finally {
    await db.destroy();
  }
}

type Entry = (header: Partial<tar.Header> & { name: string }, body?: AsyncIterable<unknown> | Iterable<unknown>) => Promise<void>;

async function postgresEntry(url: string, spoolDir: string, entry: Entry): Promise<void> {
  // A tar header needs the size first: the dump waits in a spool sealed under a key only this
  // process holds, so its (mostly ciphertext, partly clear-column) bytes never sit on disk open.
  const spool = new EncryptedSpool(spoolDir);
  try {
    await spool.open();
    const dump = pgDump(url);
    for await (const chunk of dump.stdout) await spool.write(chunk as Buffer);
    await dump.done;
    await spool.close();
    await entry({ name: 'database.pgdump', size: spool.size }, spool.read());
  } finally {
    await spool.dispose();
  }
}

async function pgliteEntries(dataDir: string, entry: Entry): Promise<void> {
  // Opening replays any WAL a crash left; the checkpoint writes everything to the data files, and
  // closing leaves the directory as a cold copy PostgreSQL accepts. Only this process may have it
  // open (PGlite is single-process): the server is stopped, as `npm run backup` says.
  const { db } = await openDatabase({ dataDir });
  try {
    await sql`checkpoint`.execute(db);
  } finally {
    await db.destroy();
  }
  const root = path.join(dataDir, 'pg');
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      const name = `${rel}/${e.name}`;
      if (e.isDirectory()) {
        await entry({ name: `${name}/`, type: 'directory', mode: 0o700 });
        await walk(p, name);
      } else if (e.isFile()) {
        await entry({ name, size: (await stat(p)).size }, createReadStream(p));
      }
    }
  };
  await entry({ name: 'pg/', type: 'directory', mode: 0o700 });
  await walk(root, 'pg');
}
