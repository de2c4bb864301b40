/**
 * What a copy of the database and the data directory show, as bytes to search: `pg_dump` (on
 * PostgreSQL) or a logical dump of every row (on PGlite), with byte columns as their raw bytes,
 * not hex (hex would hide text, and random hex would "contain" short numeric codes), plus every
 * file under the data directory.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { openDatabase } from '../../server/db/index.js';
import type { TestServer } from './harness.js';

const run = promisify(execFile);

/** `pg_dump --data-only` output with every `\x…` bytea literal replaced by its bytes. */
async function pgDump(url: string): Promise<Buffer> {
  const { stdout } = await run('pg_dump', ['--data-only', '--no-owner', url], { maxBuffer: 512 * 1024 * 1024, encoding: 'buffer' });
  const text = stdout.toString('latin1');
  return Buffer.from(
    text.replace(/\\\\x([0-9a-f]*)/g, (_m, hex: string) => Buffer.from(hex, 'hex').toString('latin1')),
    'latin1',
  );
}

/** Every row of every public table; byte columns raw, everything else as text. */
async function logicalDump(server: TestServer): Promise<Buffer> {
  const { db } = await openDatabase(server.env.DATABASE_URL ? { url: server.env.DATABASE_URL } : { dataDir: server.dataDir });
  try {
    const parts: Buffer[] = [];
    const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = 'public'`.execute(db);
    for (const { table_name } of tables.rows) {
      const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table_name)}`.execute(db);
      for (const row of rows.rows) {
        for (const v of Object.values(row)) {
          if (v instanceof Uint8Array) parts.push(Buffer.from(v));
          else if (v instanceof Date) parts.push(Buffer.from(v.toISOString()));
          else if (v !== null && typeof v === 'object') parts.push(Buffer.from(JSON.stringify(v)));
          else parts.push(Buffer.from(String(v)));
          parts.push(Buffer.from('\t'));
        }
        parts.push(Buffer.from('\n'));
      }
    }
    return Buffer.concat(parts);
  } finally {
    await db.destroy();
  }
}

/** The server must be stopped (PGlite allows one process). */
export async function databaseCopy(server: TestServer): Promise<Buffer> {
  return server.env.DATABASE_URL ? pgDump(server.env.DATABASE_URL) : logicalDump(server);
}

/**
 * Ids are in clear, and a UUID's hex digits and dashes hold short codes by chance: an id whose
 * first group ends in 718 and whose second starts with 7 holds LOINC "718-7" (one random UUID in
 * 65,536; a privacy scenario's dump holds ~150 ids). They are blanked before the needles are
 * looked for.
 */
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** Which needles occur in the haystack (case-sensitive, as stored), outside UUIDs. */
export function found(haystack: Buffer, needles: Iterable<string>): string[] {
  const text = Buffer.from(
    haystack.toString('latin1').replace(UUID, (id) => '0'.repeat(id.length)),
    'latin1',
  );
  return [...new Set(needles)].filter((n) => text.includes(Buffer.from(n, 'utf8')));
}
