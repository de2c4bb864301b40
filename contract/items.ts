import { z } from 'zod';
import { Id, IsoDate, nameField } from './common.js';

export const ItemKind = z.enum(['note', 'document', 'record', 'series']);
export type ItemKind = z.infer<typeof ItemKind>;

/** Where an item came from: typed by hand, uploaded, or imported from one of the health sources. */
export const ItemSource = z.enum(['manual', 'upload', 'fhir', 'epic', 'fitbit', 'google_health', 'apple_health']);
export type ItemSource = z.infer<typeof ItemSource>;

/** Items with a file: whether its text could be read, and if not, why (never silently unreadable). */
export const Extraction = z.object({ status: z.enum(['ok', 'pending', 'none', 'failed']), reason: z.string().optional() });
export type Extraction = z.infer<typeof Extraction>;

/** The decrypted item as the API shows it. Listing every field means nothing unlisted is ever serialised. */
export const Item = z.object({
  id: z.string(),
  kind: ItemKind,
  source: ItemSource,
  /** A record's type (FHIR resource, HealthKit identifier...); null for notes and documents. */
  type: z.string().nullable(),
  title: z.string(),
  text: z.string(),
  /**
   * Present (true) only on a list or search answer whose `text` is the start of the item's text,
   * not all of it (`text=preview`, or past a page's text budget): `GET /api/items/:id` has it all.
   */
  textTruncated: z.boolean().optional(),
  tags: z.array(z.string()),
  occurredAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** +1 per save; an edit sends it back as `baseVersion` (or `If-Match`). */
  version: z.number().int(),
  folderId: z.string().nullable(),
  fileId: z.string().optional(),
  data: z.record(z.string(), z.unknown()).optional(),
  extraction: Extraction.optional(),
});
export type Item = z.infer<typeof Item>;

export const ItemPage = z.object({ items: z.array(Item), nextCursor: z.string().nullable() });
export type ItemPage = z.infer<typeof ItemPage>;

export const Tag = z.object({ name: z.string(), count: z.number() });
export type Tag = z.infer<typeof Tag>;
export const TagList = z.object({ tags: z.array(Tag) });

/** The most a note's text may hold, in UTF-16 code units (what `String.length` and zod count). */
export const ITEM_TEXT_MAX = 1_000_000;
/**
 * The largest JSON body a valid item create or edit can need: every unit of the text sent as a
 * six-byte `\u0001` escape (a control character, or a surrogate half of an escaped emoji: no
 * character's UTF-8 is longer per unit), plus room for the rest, which is far below 64 KiB (a
 * 500-character title and 32 tags of 64 characters escaped the same way are about 28 KB). Item
 * routes take bodies this large; every other route keeps MAX_JSON_KB.
 */
export const ITEM_BODY_MAX_BYTES = ITEM_TEXT_MAX * 6 + 64 * 1024;

const title = z.string().trim().min(1, 'must not be empty').max(500);
const text = z.string().max(ITEM_TEXT_MAX);
/** A tag as it is stored and compared: NFKC (full-width and ligature forms as plain letters), trimmed, inner whitespace one space. */
export function normalizeTag(tag: string): string {
  return tag.normalize('NFKC').trim().replace(/\s+/g, ' ');
}
/** Counted in characters after normalising, as stored: NFKC can lengthen a tag (U+FDFA is 18 letters). */
const tag = z
  .string()
  .refine((t) => {
    const n = [...normalizeTag(t)].length;
    return n >= 1 && n <= 64;
  }, 'must be 1 to 64 characters')
  // As in names (common.ts nameField): half an emoji is not text, and the tag list and filter,
  // which read tags as UTF-8, would show it as U+FFFD merged with a real U+FFFD tag.
  .refine((t) => !/\p{Cs}/u.test(t), 'must not contain a lone surrogate');
const tags = z.array(tag).max(32);
const folderRef = Id;

export const CreateItemBody = z.object({
  kind: z.literal('note').default('note'),
  title,
  text: text.default(''),
  tags: tags.optional(),
  occurredAt: IsoDate.nullable().optional(),
});

export const PatchItemBody = z
  .object({
    title: title.optional(),
    text: text.optional(),
    tags: tags.optional(),
    occurredAt: IsoDate.nullable().optional(),
    baseVersion: z.number().int().min(1).optional(),
    merge: z.boolean().optional(),
    folderId: folderRef.nullable().optional(),
  })
  .refine((b) => Object.keys(b).some((k) => k !== 'baseVersion' && k !== 'merge'), 'nothing to change');
export type PatchItemBody = z.infer<typeof PatchItemBody>;

/** `If-Match: "3"` (or `W/"3"`, or a bare 3): the version an edit is based on. */
export const IfMatchHeaders = z.object({
  'if-match': z
    .string()
    .regex(/^(W\/)?"?\d{1,9}"?$/, 'must be the item version, e.g. "3"')
    .transform((v) => Number(v.replace(/\D/g, '')))
    .optional(),
});

/**
 * How much of each item's text a list or search answers with: all of it (the default, within a
 * page's budget), or a preview of a few hundred characters for views that show a line of it.
 */
export const TextMode = z.enum(['full', 'preview']);
export type TextMode = z.infer<typeof TextMode>;

export const ListItemsQuery = z.object({
  kind: ItemKind.optional(),
  source: ItemSource.optional(),
  type: z.string().max(200).optional(),
  tag: z.string().max(64).optional(),
  from: IsoDate.optional(),
  to: IsoDate.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
  folderId: z.union([folderRef, z.literal('none')]).optional(),
  recursive: z
    .enum(['true', 'false', '1', '0'])
    .transform((v) => v === 'true' || v === '1')
    .optional(),
  text: TextMode.optional(),
});
export type ListItemsQuery = z.infer<typeof ListItemsQuery>;

// ---- version history ----

export const VersionSummary = z.object({
  version: z.number(),
  title: z.string(),
  updatedAt: z.string(),
  current: z.boolean(),
  /** Whether the session asking saved it (`this`), another one did, or nobody (created, imported). */
  savedBy: z.enum(['this', 'other']).nullable(),
});
export type VersionSummary = z.infer<typeof VersionSummary>;
export const VersionList = z.object({ versions: z.array(VersionSummary) });

export const VersionDiff = z.object({
  from: z.number(),
  to: z.number(),
  title: z.object({ before: z.string(), after: z.string() }),
  tags: z.object({ removed: z.array(z.string()), added: z.array(z.string()) }),
  /** The date the item is about, then and now (absent from servers that do not compare it). */
  occurredAt: z.object({ before: z.string().nullable(), after: z.string().nullable() }).optional(),
  text: z.array(z.object({ op: z.enum(['same', 'removed', 'added']), lines: z.array(z.string()) })),
});
export type VersionDiff = z.infer<typeof VersionDiff>;

export const VersionParams = z.object({ id: Id, version: z.coerce.number().int().min(1).max(2_147_483_647) });
/** Optional and may be empty or null (a POST with no body), like RegenerateBody. */
export const RestoreVersionBody = z.object({ baseVersion: z.number().int().min(1).optional() }).nullish();

// ---- folders ----

const folderName = nameField(200);

export const Folder = z.object({ id: z.string(), name: z.string(), parentId: z.string().nullable() });
export type Folder = z.infer<typeof Folder>;
/** In the folder list: with the number of items filed directly in it. */
export const FolderWithCount = Folder.extend({ count: z.number() });
export type FolderWithCount = z.infer<typeof FolderWithCount>;
export const FolderList = z.object({ folders: z.array(FolderWithCount) });
export const CreateFolderBody = z.object({ name: folderName, parentId: folderRef.nullable().optional() });
export const PatchFolderBody = z
  .object({ name: folderName.optional(), parentId: folderRef.nullable().optional() })
  .refine((b) => Object.keys(b).length > 0, 'nothing to change');

// ---- search ----

/** The words, and the item list's filters with the same names and meanings. */
export const SearchQuery = ListItemsQuery.pick({
  kind: true,
  source: true,
  tag: true,
  folderId: true,
  recursive: true,
  from: true,
  to: true,
  text: true,
}).extend({ q: z.string().trim().min(1, 'must not be empty').max(500), limit: z.coerce.number().int().min(1).max(100).default(20) });

/** How search ranked: with vectors, or by keywords alone (no embedding model took part). */
export const SearchMode = z.enum(['hybrid', 'keyword']);
export type SearchMode = z.infer<typeof SearchMode>;

export const SearchResult = z.object({
  item: Item,
  score: z.number(),
  /** A passage with the matched words wrapped in `**`. */
  snippet: z.string(),
  /** The page of a paged document the match is on. */
  page: z.number().optional(),
});
export type SearchResult = z.infer<typeof SearchResult>;
export const SearchResponse = z.object({ results: z.array(SearchResult), mode: SearchMode });

/**
 * `GET /api/limits`: what this server accepts, so a client can refuse an oversized file before
 * sending it: the largest file upload, health import (or export re-import), and FHIR JSON
 * document (parsed whole; NDJSON streams).
 */
export const Limits = z.object({
  maxUploadBytes: z.number().int().positive(),
  maxImportBytes: z.number().int().positive(),
  maxFhirJsonBytes: z.number().int().positive(),
});
export type Limits = z.infer<typeof Limits>;
