/**
 * What is sealed how: one codec per stored thing. Each names its subkey purpose, the table label
 * its AAD binds, and how a row id becomes its row key; `seal`/`open` are the only way in or out
 * of a stored ciphertext, and `blind` gives the keyed MAC a lookup code is stored as. Services
 * never pick a purpose, label or row-id scheme themselves.
 *
 * Labels and row-key ids are those the rows were first written with: changing one would make
 * every existing row unreadable. A new stored thing gets a new codec here, with its own label.
 */
import { openRecordWith, recordAad, recordKeys, sealRecordWith, type RecordKeys } from '../../crypto/envelope.js';
import { blindToken } from '../../crypto/blind-index.js';
import { deriveRowKey, type SubkeyPurpose } from '../../crypto/keys.js';
import { openChunk, openChunkStats, sealChunk, sealChunkStats, sealEncodedChunk, type ChunkRef } from './series.js';
import type { DayChunk, DayStats } from '../../integrations/series/day-chunk.js';
import { packVectors, unpackVectors, type ItemVectors } from '../embed/pack.js';

/** Anything that hands out the vault's subkeys (a KeyRing; a worker's single key). */
export interface KeySource {
  subkey(purpose: SubkeyPurpose): Buffer;
  /**
   * A row's record keys (HKDF of its row key), when the source keeps recently used ones: three
   * HKDFs per row were a sixth of a search's CPU. Without it they are derived on each call.
   */
  recordKeys?(purpose: SubkeyPurpose, rowKeyId: string, derive: () => RecordKeys): RecordKeys;
}

/** The row a ciphertext is bound to: owner, id and version (a new version re-seals). */
export interface RowRef {
  userId: string;
  id: string;
  version: number;
}

/** seal/open for one stored thing. */
export interface Codec<T> {
  /** The AAD's table label. */
  readonly label: string;
  seal(keys: KeySource, row: RowRef, value: T): Buffer;
  open(keys: KeySource, row: RowRef, blob: Uint8Array): T;
}

interface Spec<T> {
  purpose: SubkeyPurpose;
  label: string;
  /** The row key's HKDF salt for a row id (default: the id itself). */
  keyId?: (id: string) => string;
  encode: (value: T) => Buffer;
  decode: (plain: Buffer) => T;
}

function recordCodec<T>(spec: Spec<T>): Codec<T> {
  const rowKeys = (keys: KeySource, id: string): RecordKeys => {
    const keyId = spec.keyId ? spec.keyId(id) : id;
    const derive = () => recordKeys(deriveRowKey(keys.subkey(spec.purpose), keyId));
    return keys.recordKeys ? keys.recordKeys(spec.purpose, keyId, derive) : derive();
  };
  const aad = (row: RowRef) => recordAad({ userId: row.userId, table: spec.label, rowId: row.id, version: row.version });
  return {
    label: spec.label,
    seal: (keys, row, value) => sealRecordWith(rowKeys(keys, row.id), spec.encode(value), aad(row)),
    open: (keys, row, blob) => spec.decode(openRecordWith(rowKeys(keys, row.id), blob, aad(row))),
  };
}

const json = <T>() => ({ encode: (v: T) => Buffer.from(JSON.stringify(v)), decode: (b: Buffer) => JSON.parse(b.toString('utf8')) as T });
const text = { encode: (v: string) => Buffer.from(v, 'utf8'), decode: (b: Buffer) => b.toString('utf8') };
const bytes = { encode: (v: Buffer) => v, decode: (b: Buffer) => b };

/** A lookup code stored as a 16-byte keyed MAC; `space` keeps equal codes of different tables apart. */
function blinder(purpose: SubkeyPurpose, space: string) {
  return (keys: KeySource, code: string): Buffer => blindToken(keys.subkey(purpose), `${space}|${code}`);
}

// ---- vault items ----

/** What is encrypted inside `vault_items.ciphertext`. */
export interface ItemPayload {
  title: string;
  text: string;
  tags: string[];
  /**
   * The readable type code (LOINC, `snomed:…`, HealthKit identifier, MIME type); the row holds
   * only its MAC. Absent on rows sealed before 0011, whose code is still in `legacy_type` until
   * the owner's vault upgrade re-seals them.
   */
  type?: string | null;
  data?: Record<string, unknown>;
  externalVersion?: string;
  /**
   * The item's identity at its source (a FHIR resource's `Type/id`, a HealthKit sample's key),
   * whose MAC is `external_mac`: kept so an export carries it, and a restored record is the same
   * record to its source's next import. Absent on items stored before it was kept.
   */
  externalId?: string;
  /** Stored as a placeholder for a record whose content was missing (see NewItem.external). */
  externalPlaceholder?: true;
  /** The session whose PATCH wrote this state (history shows who saved what). */
  savedBy?: string;
  /** How the file's text was read (items with a file): a status and a fixed reason code. */
  extraction?: { status: 'ok' | 'pending' | 'none' | 'failed'; code?: string; pages?: number; ocrPages?: number };
}

const itemTypeMac = blinder('types', 'vault_items');

export const item = {
  ...recordCodec<ItemPayload>({ purpose: 'items', label: 'vault_items', ...json<ItemPayload>() }),
  /** `vault_items.type_mac`: every item has one (no type blinds the empty code), so "not yet upgraded" is `type_mac is null`. */
  blindType: (keys: KeySource, type: string | null | undefined) => itemTypeMac(keys, type ?? ''),
};

/** What an `item_versions` row seals: the item's payload (readable type inside) and the clear fields it had then. */
export type ItemVersionPayload = ItemPayload & { occurredAt: string | null };

/** An earlier version of an item: under the item's row key, bound to (item id, version) with its own label. */
export const itemVersion = recordCodec<ItemVersionPayload>({ purpose: 'items', label: 'item_versions', ...json<ItemVersionPayload>() });

/** Folder names (`folders.ciphertext`), under the items subkey with the folder's id. */
export const folderName = recordCodec<string>({ purpose: 'items', label: 'folders', ...text });

/** Tag names; `blind` is the case-insensitive name's MAC (`tags.name_mac`). */
export const tag = {
  ...recordCodec<string>({ purpose: 'tags', label: 'tags', ...text }),
  blind: (keys: KeySource, normalizedLowercase: string) => blindToken(keys.subkey('tags'), normalizedLowercase),
};

/** An integration record's identity at its source (`vault_items.external_mac`). */
export const externalId = { blind: (keys: KeySource, source: string, id: string) => blindToken(keys.subkey('dedupe'), `item|${source}|${id}`) };

/** Blind-index postings (`search_terms.token`): one MAC per token of crypto/blind-index.ts `tokenize`. */
export const searchTerm = { blind: (keys: KeySource, token: string) => blindToken(keys.subkey('index'), token) };

// ---- files ----

export interface FileMeta {
  name: string;
  contentType: string;
  [k: string]: unknown;
}

/** Name, content type (and extraction notes) of a stored file: `files.meta_ciphertext`. */
export const fileMeta = recordCodec<FileMeta>({ purpose: 'files', label: 'files', keyId: (id) => `${id}:meta`, ...json<FileMeta>() });

/** Key and AAD of a stored file's content stream (crypto/stream.ts). */
export const fileContent = {
  stream: (keys: KeySource, userId: string, fileId: string) => ({
    key: deriveRowKey(keys.subkey('files'), fileId),
    aad: recordAad({ userId, table: 'files', rowId: fileId, version: 1 }),
  }),
};

/** An uploaded import (Apple Health, Fitbit, FHIR, an export archive) while its job runs: bound to the job row. */
export const importFile = {
  stream: (keys: KeySource, userId: string, jobId: string) => ({
    key: deriveRowKey(keys.subkey('files'), `import/${jobId}`),
    aad: recordAad({ userId, table: 'jobs', rowId: jobId, version: 1 }),
  }),
};

// ---- chats ----

export const chat = recordCodec<unknown>({ purpose: 'chats', label: 'chats', keyId: (id) => `chats:${id}`, ...json<unknown>() });
export const chatMessage = recordCodec<unknown>({ purpose: 'chats', label: 'chat_messages', keyId: (id) => `chat_messages:${id}`, ...json<unknown>() });

// ---- API tokens ----

/** A personal API token's name (`api_tokens.name_sealed`), under the tokens subkey with the token's id. */
export const apiTokenName = recordCodec<string>({ purpose: 'tokens', label: 'api_tokens', ...text });

// ---- health series ----

const seriesTypeMac = blinder('types', 'series_chunks');

/** Day chunks: sealed under a key from their readable type and day (codec/series.ts); the row stores `blindType`. */
export const seriesChunk = {
  seal: (keys: KeySource, userId: string, chunk: DayChunk, version: number) => sealChunk(keys.subkey('series'), userId, chunk, version),
  sealEncoded: (keys: KeySource, userId: string, at: Pick<DayChunk, 'type' | 'date'>, version: number, encoded: Uint8Array) =>
    sealEncodedChunk(keys.subkey('series'), userId, at, version, encoded),
  open: (keys: KeySource, ref: ChunkRef, blob: Uint8Array) => openChunk(keys.subkey('series'), ref, blob),
  blindType: seriesTypeMac,
};

/** A chunk's unit and daily statistics (`series_chunks.stats`), sealed apart from its samples. */
export const seriesStats = {
  seal: (keys: KeySource, userId: string, chunk: Pick<DayChunk, 'type' | 'date' | 'unit' | 'stats'>, version: number) =>
    sealChunkStats(keys.subkey('series'), userId, chunk, version),
  open: (keys: KeySource, ref: ChunkRef, blob: Uint8Array): { unit: string; stats: DayStats } => openChunkStats(keys.subkey('series'), ref, blob),
};

/**
 * The readable name of a series type (`series_types.ciphertext`, row id = the hex MAC): chunks
 * are looked up by a code the caller knows, but an export must list the types a vault holds.
 */
export const seriesType = { ...recordCodec<string>({ purpose: 'series', label: 'series_types', keyId: (id) => `type:${id}`, ...text }), blind: seriesTypeMac };

/** Monthly statistics of one series type (a `series_years` roll-up holds a year of them). */
export interface MonthStats {
  unit: string;
  days: number;
  count: number;
  min: number;
  max: number;
  mean: number;
  sum: number;
}

/** Months ("YYYY-MM-01") of one year that have data. */
export type YearRollup = Record<string, MonthStats>;

const yearRollup = recordCodec<YearRollup>({ purpose: 'series', label: 'series_years', keyId: (id) => `${id}|rollup`, ...json<YearRollup>() });

/**
 * `series_years.stats`: a derived roll-up, rewritten whole, so always version 1. The row id is
 * the readable type and year, so a roll-up cannot be passed off as another type's or year's
 * (the row itself holds only `seriesChunk.blindType`).
 */
export const seriesYear = {
  label: yearRollup.label,
  seal: (keys: KeySource, userId: string, type: string, year: number, months: YearRollup) =>
    yearRollup.seal(keys, { userId, id: `${type}/${year}`, version: 1 }, months),
  open: (keys: KeySource, userId: string, type: string, year: number, blob: Uint8Array) =>
    yearRollup.open(keys, { userId, id: `${type}/${year}`, version: 1 }, blob),
};

// ---- preferences ----

/**
 * `user_preferences.ciphertext` (dashboard cards, units), one row per user: row id "preferences"
 * (no item id is one), its own label so it opens as nothing else. Validated by its service.
 */
export const preferences = recordCodec<unknown>({ purpose: 'items', label: 'user_preferences', ...json<unknown>() });

// ---- jobs ----

/** What a job reports to its owner: counts per type and a failure message that may quote the input. */
export interface JobOutcome {
  imported?: Record<string, number>;
  error?: string;
  /** Fixed sentences (contract `JobWarning`); absent from outcomes sealed before they were kept. */
  warnings?: Array<{ code: string; message: string; count?: number }>;
}

/** `jobs.sealed`: rewritten as a job runs, so always version 1 (rolling it back only shows older counts). */
export const jobOutcome = recordCodec<JobOutcome>({ purpose: 'jobs', label: 'jobs.outcome', ...json<JobOutcome>() });

// ---- inbox ----

/** The inbox private key (`users.inbox_private_key_wrapped`), row id = the user id. */
export const inboxPrivateKey = recordCodec<Buffer>({ purpose: 'inbox', label: 'users.inbox_private_key', ...bytes });

/**
 * A batch background sync sealed to the owner's public key (HPKE, crypto/hpke.ts): this is the
 * `info` it is bound to, naming the row, its provider and kind.
 */
export const inboxBatch = { info: (userId: string, rowId: string, provider: string, kind: string) => `v1|inbox|${userId}|${rowId}|${provider}|${kind}` };

// ---- embeddings (issue 15) ----

/**
 * An item's passage vectors (`item_vectors.ciphertext`), under the `vectors` subkey and bound to
 * the item's id and the item version they were computed from.
 */
export const itemVectors = {
  ...recordCodec<ItemVectors>({ purpose: 'vectors', label: 'item_vectors', encode: packVectors, decode: unpackVectors }),
  /** `item_vectors.model_mac`: which model made them, so a model change re-embeds without opening rows. */
  blindModel: blinder('vectors', 'item_vectors.model'),
};

// ---- activity ----

/** What an audit event tells its owner beyond its action and time (`audit_log.detail_sealed`). */
export interface AuditDetail {
  /** A coarse client ("Firefox on Windows", "curl"), never the raw user agent. */
  client?: string;
  /** The connected account an integration event is about: no personal data, only which one. */
  connection?: ConnectionRef;
}

/** Which connection: provider id (`epic`), its name as shown ("Epic") and the connection's id. */
export interface ConnectionRef {
  provider: string;
  label: string;
  id: string;
}

/**
 * An audit event's detail, sealed to the owner's inbox public key (HPKE) so that it can be
 * written without the vault key (a failed sign-in). The `info` binds owner, action and time,
 * so a detail cannot be moved to another user's or another kind of event.
 */
export const auditDetail = {
  info: (userId: string, action: string, at: Date) => `v1|audit|${userId}|${action}|${at.toISOString()}`,
  encode: (d: AuditDetail) => Buffer.from(JSON.stringify(d)),
  decode: (b: Buffer) => JSON.parse(b.toString('utf8')) as AuditDetail,
};
