import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Bytes = Uint8Array;

export interface UsersTable {
  id: string;
  email: string;
  kdf_params: ColumnType<unknown, string, string>;
  key_version: Generated<number>;
  wrapped_vk_passphrase: Bytes;
  wrapped_vk_recovery: Bytes;
  inbox_public_key: Bytes;
  inbox_private_key_wrapped: Bytes;
  /** 0004: keyed hash of the Google identity (see migrations/0004_integrations.ts). */
  google_sub: Generated<Bytes | null>;
  /** 0012: HMAC of inbox_public_key under a SERVER_KEY-derived key (null until certified). */
  inbox_public_key_mac: Generated<Bytes | null>;
  /** 0012: may create invite codes. */
  is_admin: Generated<boolean>;
  /** 0011: 1 until the owner's vault upgrade has blinded their type codes and sealed job outcomes. */
  vault_format: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  lookup_id: Bytes;
  wrapped_vk: Bytes;
  created_at: Generated<Date>;
  last_seen_at: Generated<Date>;
  expires_at: Timestamp;
}

export interface FilesTable {
  id: string;
  user_id: string;
  content_mac: Bytes;
  size: ColumnType<string | number, number, number>;
  version: Generated<number>;
  meta_ciphertext: Bytes;
  created_at: Generated<Date>;
}

export interface VaultItemsTable {
  id: string;
  user_id: string;
  kind: string;
  source: string;
  /** Keyed MAC of the type code (codec `item.blindType`); null only on rows not yet upgraded. */
  type_mac: Bytes | null;
  /** The clear type code of rows written before 0011, emptied by the owner's vault upgrade. */
  legacy_type: string | null;
  occurred_at: Timestamp | null;
  sort_at: Timestamp;
  version: Generated<number>;
  term_count: Generated<number>;
  file_id: string | null;
  external_mac: Bytes | null;
  ciphertext: Bytes;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  deleted_at: Timestamp | null;
  /** 0013: the folder the item is filed in. */
  folder_id: Generated<string | null>;
}

// ---- 0013_history ----
export interface FoldersTable {
  id: string;
  user_id: string;
  parent_id: string | null;
  version: Generated<number>;
  ciphertext: Bytes;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface ItemVersionsTable {
  item_id: string;
  user_id: string;
  version: number;
  file_id: string | null;
  ciphertext: Bytes;
  saved_at: Timestamp;
}

export interface ItemFilesTable {
  item_id: string;
  file_id: string;
}

export interface TagsTable {
  id: string;
  user_id: string;
  name_mac: Bytes;
  version: Generated<number>;
  ciphertext: Bytes;
}

export interface ItemTagsTable {
  item_id: string;
  tag_id: string;
}

export interface SearchTermsTable {
  user_id: string;
  item_id: string;
  token: Bytes;
  tf: number;
  dl: number;
  /** Copies of the item's `sort_at` and `kind`, so filtered BM25 reads postings alone. */
  sort_at: Date;
  kind: string;
}

export interface AuditLogTable {
  id: Generated<string>;
  user_id: string | null;
  action: string;
  request_id: string | null;
  created_at: Generated<Date>;
  /** 0025: the client, sealed to the owner's inbox public key (codec `auditDetail`). */
  detail_sealed: Uint8Array | null;
}

// ---- 0004_integrations ----
export interface IntegrationsTable {
  id: string;
  user_id: string;
  provider: string;
  endpoint: string | null;
  status: string;
  last_sync_at: Timestamp | null;
  next_sync_at: Timestamp | null;
  error_code: string | null;
  error: string | null;
  cursor: Bytes | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface IntegrationTokensTable {
  user_id: string;
  provider: string;
  version: Generated<number>;
  ciphertext: Bytes;
  updated_at: Generated<Date>;
}

export interface InboxTable {
  id: string;
  user_id: string;
  provider: string;
  kind: string;
  sealed: Bytes;
  claimed_at: Timestamp | null;
  created_at: Generated<Date>;
}

export interface JobsTable {
  id: string;
  user_id: string;
  kind: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  progress: ColumnType<unknown, string, string>;
  /** Counts per type and the failure message, sealed for the owner (codec `jobOutcome`). */
  sealed: Bytes | null;
  /** A fixed code (`failed`, `server_fault`, `server_restarted`, `unsupported`); the message is sealed. */
  error_code: string | null;
  /** Clear outcome of jobs from before 0011, emptied by the owner's vault upgrade. */
  legacy_result: ColumnType<unknown, string | null, string | null>;
  legacy_error: string | null;
  input_ref: string | null;
  input_format: string | null;
  attempts: Generated<number>;
  heartbeat_at: Timestamp | null;
  created_at: Generated<Date>;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
  /** 0023: the instance running the job and until when its claim holds (renewed by heartbeats). */
  lease_owner: Generated<string | null>;
  lease_until: Generated<Date | null>;
}

export interface SeriesChunksTable {
  user_id: string;
  /** Keyed MAC of the type code (codec `seriesChunk.blindType`); null only on rows not yet upgraded. */
  type_mac: Bytes | null;
  /** The clear type code of rows written before 0011, emptied by the owner's vault upgrade. */
  legacy_type: string | null;
  /** Local calendar date; read back as 'YYYY-MM-DD' text (see SeriesRepository). */
  date: ColumnType<string, string, string>;
  version: number;
  ciphertext: Bytes;
  /** The chunk's unit and daily stats, sealed apart from its samples; null on chunks written before 0005. */
  stats: Bytes | null;
  updated_at: Generated<Date>;
}

/** The readable names of a user's series types, sealed (codec `seriesType`). */
export interface SeriesTypesTable {
  user_id: string;
  type_mac: Bytes;
  version: Generated<number>;
  ciphertext: Bytes;
}

export interface ChatsTable {
  id: string;
  user_id: string;
  version: Generated<number>;
  ciphertext: Bytes;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  /** The turn holding the chat (409 `chat_busy` to another) and until when its claim holds (migration 0031). */
  turn_id: string | null;
  turn_until: Date | null;
}

export interface ChatMessagesTable {
  id: string;
  chat_id: string;
  user_id: string;
  role: string;
  version: Generated<number>;
  ciphertext: Bytes;
  created_at: Generated<Date>;
}

/** 0014: one sealed row of display preferences per user. */
export interface UserPreferencesTable {
  user_id: string;
  version: number;
  ciphertext: Bytes;
  updated_at: Generated<Date>;
}

/** 0014: sealed monthly roll-ups of series_chunks stats, one row per (type, year) (derived; rebuilt when missing). */
export interface SeriesYearsTable {
  user_id: string;
  /** Keyed MAC of the type code, the same as series_chunks.type_mac (codec `seriesChunk.blindType`). */
  type_mac: Bytes;
  year: number;
  stats: Bytes;
}

export interface DB {
  users: UsersTable;
  sessions: SessionsTable;
  files: FilesTable;
  vault_items: VaultItemsTable;
  tags: TagsTable;
  item_tags: ItemTagsTable;
  search_terms: SearchTermsTable;
  audit_log: AuditLogTable;
  chats: ChatsTable;
  chat_messages: ChatMessagesTable;
  integrations: IntegrationsTable;
  integration_tokens: IntegrationTokensTable;
  inbox: InboxTable;
  jobs: JobsTable;
  series_chunks: SeriesChunksTable;
  series_types: SeriesTypesTable;
  user_preferences: UserPreferencesTable;
  server_settings: ServerSettingsTable;
  series_years: SeriesYearsTable;
  invites: InvitesTable;
  api_tokens: ApiTokensTable;
  folders: FoldersTable;
  item_versions: ItemVersionsTable;
  item_files: ItemFilesTable;
  item_vectors: ItemVectorsTable;
  rate_hits: RateHitsTable;
  failure_throttle: FailureThrottleTable;
}

/** 0023: per-IP request counts shared by every instance (`key` is an HMAC, never an address). */
export interface RateHitsTable {
  key: Bytes;
  hits: number;
  reset_at: Timestamp;
}

/** 0023: failed sign-in attempts per account, shared by every instance (`key` is an HMAC). */
export interface FailureThrottleTable {
  key: Bytes;
  failures: number;
  locked_until: Timestamp;
  last_at: Timestamp;
}

/** 0012: single-use sign-up codes (only their SHA-256 is stored). */
export interface InvitesTable {
  id: string;
  code_hash: Bytes;
  created_by: string | null;
  created_at: Generated<Date>;
  expires_at: Timestamp;
  used_at: Date | null;
  used_by: string | null;
}

/** 0019: personal API tokens (only a lookup id and the vault key wrapped under the secret). */
export interface ApiTokensTable {
  id: string;
  user_id: string;
  lookup_id: Bytes;
  wrapped_vk: Bytes;
  name_sealed: Bytes;
  /** Space-separated, from read, write, chat. */
  scopes: string;
  created_at: Generated<Date>;
  last_used_at: Date | null;
  expires_at: Timestamp;
}

/** 0026: server-wide settings an admin chose (the default chat and embedding models). */
export interface ServerSettingsTable {
  key: string;
  value: string;
  updated_by: string | null;
  updated_at: Generated<Date>;
}

// ---- 0021_item_vectors ----
/** An item's chunk embeddings, sealed (codec `itemVectors`); see migrations/0021_item_vectors.ts. */
export interface ItemVectorsTable {
  item_id: string;
  user_id: string;
  item_version: number;
  model_mac: Bytes;
  ciphertext: Bytes;
}
