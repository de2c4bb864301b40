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
 *   missing.jsonl                     only when something listed above could not be read (a file
 *                                     whose blob is gone from storage): one { section, id } line each
 *
 * Entries come in this order so that an importer reading the tar once, front to back, has
 * seen every file before the items that point at it, and every item before chats citing it.
 *
 * What each line holds (Manifest, ExportFile, ExportItem, ExportFolder) is part of the API
 * contract: contract/export.ts.
 */

/** Tar entry names are built from ids and sanitized names; never trust them on the way in. */
export const fileEntryName = (id: string, name: string) => `files/${id}/${name}`;
export const FILE_ENTRY = /^files\/([0-9a-f-]{36})\/[^/]+$/i;
export const SERIES_ENTRY = /^series\/[^/]+\.jsonl$/;

/** Series type codes are HealthKit identifiers or LOINC codes; keep the file name portable. */
export const seriesEntryName = (type: string) => `series/${type.replace(/[^A-Za-z0-9._-]/g, '_')}.jsonl`;

/** The last entry, when an export had to leave out what storage no longer held. */
export const MISSING_ENTRY = 'missing.jsonl';
