/**
 * Day chunks of health series: each sealed under its own row key (from the vault's `series`
 * subkey and the chunk's readable type and date), its AAD naming the user, table, (type, date)
 * and version; its unit and stats sealed apart under the same key so daily summaries need not
 * decrypt samples. The stored row carries only the type's keyed MAC (see codec/index.ts).
 *
 * Pure functions on the `series` subkey alone, because the Apple Health import worker seals
 * chunks off the main thread with nothing more than that key.
 */
// The modules, not the crypto/ barrel: the import worker loads this file (see encrypted-file.ts).
import { openRecord, recordAad, sealRecord } from '../../crypto/envelope.js';
import { deriveRowKey } from '../../crypto/keys.js';
import { encodeChunk, type DayChunk, type DayStats } from '../../integrations/series/day-chunk.js';

const TABLE = 'series_chunks';
/** The stats column is sealed under the chunk's row key, its AAD naming the column. */
const STATS_TABLE = 'series_chunks.stats';

// The AAD joins fields with '|', so the row id uses '/' (never part of a date) between them.
const rowId = (type: string, date: string) => `${type}/${date}`;
const chunkKey = (seriesKey: Uint8Array, type: string, date: string) => deriveRowKey(seriesKey, `${type}|${date}`);

/** Which chunk a blob belongs to: its readable type (known to whoever looks it up), day and version. */
export type ChunkRef = { userId: string; type: string; date: string; version: number };

export function sealChunk(seriesKey: Uint8Array, userId: string, chunk: DayChunk, version: number): Buffer {
  return sealEncodedChunk(seriesKey, userId, chunk, version, encodeChunk(chunk));
}

/** {@link sealChunk} of a chunk already encoded (a merge writes its result encoded). */
export function sealEncodedChunk(seriesKey: Uint8Array, userId: string, at: Pick<DayChunk, 'type' | 'date'>, version: number, encoded: Uint8Array): Buffer {
  return sealRecord(chunkKey(seriesKey, at.type, at.date), encoded, recordAad({ userId, table: TABLE, rowId: rowId(at.type, at.date), version }));
}

export function sealChunkStats(seriesKey: Uint8Array, userId: string, chunk: Pick<DayChunk, 'type' | 'date' | 'unit' | 'stats'>, version: number): Buffer {
  return sealRecord(
    chunkKey(seriesKey, chunk.type, chunk.date),
    Buffer.from(JSON.stringify({ unit: chunk.unit, stats: chunk.stats })),
    recordAad({ userId, table: STATS_TABLE, rowId: rowId(chunk.type, chunk.date), version }),
  );
}

/** The encoded chunk (see day-chunk.ts) inside a sealed one. */
export function openChunk(seriesKey: Uint8Array, w: ChunkRef, ciphertext: Uint8Array): Buffer {
  return openRecord(
    chunkKey(seriesKey, w.type, w.date),
    ciphertext,
    recordAad({ userId: w.userId, table: TABLE, rowId: rowId(w.type, w.date), version: w.version }),
  );
}

export function openChunkStats(seriesKey: Uint8Array, w: ChunkRef, ciphertext: Uint8Array): { unit: string; stats: DayStats } {
  const plain = openRecord(
    chunkKey(seriesKey, w.type, w.date),
    ciphertext,
    recordAad({ userId: w.userId, table: STATS_TABLE, rowId: rowId(w.type, w.date), version: w.version }),
  );
  const h = JSON.parse(plain.toString('utf8')) as { unit: string; stats: DayStats };
  return { unit: h.unit, stats: h.stats };
}

/** A chunk sealed as a new row (version 1) where it was aggregated; see SeriesService.storeSealed. */
export interface SealedChunk {
  /** Readable, in memory only: the main thread stores its MAC (codec/index.ts `seriesType`). */
  type: string;
  date: string;
  /** Samples in the chunk: what it adds when no stored chunk exists for its day. */
  count: number;
  ciphertext: Buffer;
  stats: Buffer;
}

/** Seals a freshly aggregated chunk as version 1 of its row. */
export function sealNewChunk(seriesKey: Uint8Array, userId: string, chunk: DayChunk): SealedChunk {
  return {
    type: chunk.type,
    date: chunk.date,
    count: chunk.samples.length,
    ciphertext: sealChunk(seriesKey, userId, chunk, 1),
    stats: sealChunkStats(seriesKey, userId, chunk, 1),
  };
}
