import { z } from 'zod';

/**
 * The layout of an export, once decrypted with `age -d`: a plain tar that any tool opens.
 *
 *   manifest.json                     format, version, created, counts (at the start of export)
 *   files.jsonl                       one line per file: id, name, contentType, size
 *   files/<id>/<original name>        the original bytes
 *   folders.jsonl                     one line per folder: id, name, parentId (parents first)
 *   items.jsonl                       one line per item with its folderId (trash only when the
 *                                     manifest says includesTrash, with deletedAt)
 *   chats.jsonl                       one line per chat, messages inline
 *   series/<type>.jsonl               one line per (type, local day) chunk, samples included
 *   preferences.jsonl                 dashboard cards, their order and units (one line; empty when none chosen)
 *
 * Entries come in this order so that an importer reading the tar once, front to back, has
 * seen every file before the items that point at it, and every item before chats citing it.
 */
export const EXPORT_FORMAT = 'context-vault-export';
export const EXPORT_VERSION = 1;

export const ManifestSchema = z.object({
  format: z.literal(EXPORT_FORMAT),
  version: z.number().int().min(1),
  created: z.string(),
  /** Whether trashed items are in items.jsonl (absent in exports made before folders: yes). */
  includesTrash: z.boolean().optional(),
  counts: z.record(z.string(), z.number().int().min(0)),
});
export type Manifest = z.infer<typeof ManifestSchema>;

export const ExportFileSchema = z.object({ id: z.string(), name: z.string().min(1).max(255), contentType: z.string().max(200), size: z.number().int().min(0) });
export type ExportFile = z.infer<typeof ExportFileSchema>;

export const ExportItemSchema = z.object({
  id: z.string(),
  kind: z.enum(['note', 'document', 'record', 'series']),
  source: z.enum(['manual', 'upload', 'fhir', 'epic', 'fitbit', 'google_health', 'apple_health']),
  type: z.string().nullable(),
  title: z.string(),
  text: z.string(),
  tags: z.array(z.string()),
  occurredAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  deletedAt: z.string().nullable().optional(),
  folderId: z.string().nullable().optional(),
  fileId: z.string().optional(),
  data: z.record(z.string(), z.unknown()).optional(),
  extraction: z.object({ status: z.enum(['ok', 'pending', 'none', 'failed']), reason: z.string().max(200).optional() }).optional(),
});
export type ExportItem = z.infer<typeof ExportItemSchema>;

export const ExportFolderSchema = z.object({ id: z.string(), name: z.string().min(1).max(200), parentId: z.string().nullable() });
export type ExportFolder = z.infer<typeof ExportFolderSchema>;

/** Tar entry names are built from ids and sanitized names; never trust them on the way in. */
export const fileEntryName = (id: string, name: string) => `files/${id}/${name}`;
export const FILE_ENTRY = /^files\/([0-9a-f-]{36})\/[^/]+$/i;
export const SERIES_ENTRY = /^series\/[^/]+\.jsonl$/;

/** Series type codes are HealthKit identifiers or LOINC codes; keep the file name portable. */
export const seriesEntryName = (type: string) => `series/${type.replace(/[^A-Za-z0-9._-]/g, '_')}.jsonl`;
