export interface User {
  id: string;
  email: string;
}

export type ItemKind = 'note' | 'document' | 'record' | 'series';
export type ItemSource = 'manual' | 'upload' | 'fhir' | 'epic' | 'fitbit' | 'google_health' | 'apple_health';

export interface Item {
  id: string;
  kind: ItemKind;
  source: ItemSource;
  type: string;
  title: string;
  text: string;
  tags: string[];
  occurredAt: string | null;
  createdAt: string;
  updatedAt: string;
  /** +1 per save; edits send it back as `baseVersion`. */
  version: number;
  folderId: string | null;
  fileId?: string;
  data?: Record<string, unknown>;
  /** Items with a file: whether its text could be read, and why not. */
  extraction?: Extraction;
}

export interface Extraction {
  status: 'ok' | 'pending' | 'none' | 'failed';
  reason?: string;
}

export interface Folder {
  id: string;
  name: string;
  parentId: string | null;
  count: number;
}

export interface VersionSummary {
  version: number;
  title: string;
  updatedAt: string;
  current: boolean;
  savedBy: 'this' | 'other' | null;
}

export interface VersionDiff {
  from: number;
  to: number;
  title: { before: string; after: string };
  tags: { removed: string[]; added: string[] };
  text: Array<{ op: 'same' | 'removed' | 'added'; lines: string[] }>;
}

export interface ItemPage {
  items: Item[];
  nextCursor: string | null;
}

export interface Tag {
  name: string;
  count: number;
}

export interface SearchResult {
  item: Item;
  score: number;
  /** The page of a paged document the match is on. */
  page?: number;
  /** A passage with the matched words wrapped in `**`. */
  snippet?: string;
}

/** How search ranked: with vectors, or by keywords alone (no embedding model). */
export type SearchMode = 'hybrid' | 'keyword';

export type JobStatus = 'queued' | 'running' | 'done' | 'failed';

export interface Job {
  id: string;
  kind: string;
  status: JobStatus;
  progress: { done: number; total?: number; unit: string };
  result?: { imported: Record<string, number> };
  error?: string | { code?: string; message?: string };
}

export interface SeriesDay {
  date: string;
  count: number;
  min: number;
  max: number;
  mean: number;
  sum: number;
}

export interface Series {
  type: string;
  unit: string;
  days: SeriesDay[];
}

export interface Source {
  n: number;
  /** Null for a computed source (a daily series summary): nothing to open. */
  itemId: string | null;
  title: string;
  kind: ItemKind;
  occurredAt: string | null;
  page?: number;
  passage?: string;
}

/** What the model was given for an answer (never the prompt itself). */
export interface AnswerContext {
  model: string;
  numCtx: number;
  promptTokens: number;
  answerReserve: number;
  sourcesFound: number;
  sourcesUsed: number;
  truncated?: number;
  historyMessages: number;
  /** `keyword`: no embedding model took part in finding the sources. */
  retrieval?: 'hybrid' | 'keyword';
}

export interface AnswerAlternative {
  text: string;
  sources: Source[];
  createdAt: string;
  context?: AnswerContext;
  stopped?: boolean;
  cutOff?: boolean;
}

export interface ChatSummary {
  id: string;
  title: string;
  updatedAt: string;
}

export interface ChatMessage {
  id: string;
  role: 'user' | 'assistant';
  text: string;
  sources: Source[];
  createdAt: string;
  stopped?: boolean;
  /** The answer reached the length limit and ends there. */
  cutOff?: boolean;
  context?: AnswerContext;
  alternatives?: AnswerAlternative[];
}

export interface ChatThread {
  id: string;
  title: string;
  /** The chat's model (its own pick, else the server default). */
  model?: string;
  messages: ChatMessage[];
}

export type IntegrationStatus = 'connected' | 'syncing' | 'error' | 'reauth_required';

export interface Integration {
  provider: string;
  status: IntegrationStatus;
  endpoint: string | null;
  lastSyncAt: string | null;
  error?: { code: string; message: string };
}

export interface AvailableProvider {
  provider: string;
  label: string;
  configured: boolean;
  endpoints: string[];
}

export interface IntegrationsList {
  integrations: Integration[];
  available: AvailableProvider[];
}

export interface SyncJob {
  id: string;
  kind: string;
  status: 'running' | 'done' | 'failed';
  result?: { imported: Record<string, number>; skipped?: Record<string, string> };
  error?: { code: string; message: string };
}

export interface SessionInfo {
  id: string;
  current?: boolean;
  createdAt?: string;
  lastSeenAt?: string;
  expiresAt?: string;
  userAgent?: string;
  ip?: string;
}

/** `GET /api/models`: the models directory, the server defaults, and whether this account may change them. */
export interface ModelInfo {
  name: string;
  size: number;
  family?: string;
  quantization?: string;
  contextLength?: number;
  fits: boolean;
  requiredBytes: number;
}

export interface ModelsResponse {
  models: ModelInfo[];
  defaults: { chat: string; embed: string };
  canManage: boolean;
  limits: { memoryMb: number; gpus: boolean; numCtx: number };
}
