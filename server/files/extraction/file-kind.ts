import path from 'node:path';
import type { DocumentKind } from './documents.js';

export type FileKind = 'text' | 'pdf' | 'image' | DocumentKind;

const BY_EXTENSION: Record<string, FileKind> = {
  '.txt': 'text',
  '.md': 'text',
  '.markdown': 'text',
  '.csv': 'text',
  '.json': 'text',
  '.log': 'text',
  '.pdf': 'pdf',
  '.png': 'image',
  '.jpg': 'image',
  '.jpeg': 'image',
  '.tif': 'image',
  '.tiff': 'image',
  '.webp': 'image',
  '.gif': 'image',
  '.bmp': 'image',
  '.heic': 'image',
  '.heif': 'image',
  '.docx': 'docx',
  '.xlsx': 'xlsx',
  '.ods': 'ods',
  '.pptx': 'pptx',
  '.html': 'html',
  '.htm': 'html',
  '.xhtml': 'html',
  '.eml': 'eml',
  '.mbox': 'mbox',
};

const BY_TYPE: Record<string, FileKind> = {
  'application/pdf': 'pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'application/vnd.oasis.opendocument.spreadsheet': 'ods',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'pptx',
  'text/html': 'html',
  'application/xhtml+xml': 'html',
  'message/rfc822': 'eml',
  'application/mbox': 'mbox',
};

/** The extension's content type, for files whose client sent none (or octet-stream). */
export const TYPE_BY_EXTENSION: Record<string, string> = {
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.ods': 'application/vnd.oasis.opendocument.spreadsheet',
  '.pptx': 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.eml': 'message/rfc822',
  '.mbox': 'application/mbox',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.heic': 'image/heic',
  '.heif': 'image/heif',
};

/** Image types drawn as vectors, which OCR cannot read: not scans, and not a damaged file either. */
const NOT_RASTER = new Set(['image/svg+xml', 'image/emf', 'image/x-emf', 'image/wmf', 'image/x-wmf']);

/** How a stored file is read, from its content type and name; null = not a type this server reads. */
export function fileKind(contentType: string, name: string): FileKind | null {
  const type = contentType.toLowerCase().split(';')[0]!.trim();
  if (BY_TYPE[type]) return BY_TYPE[type]!;
  if (type.startsWith('image/') && !NOT_RASTER.has(type)) return 'image';
  const ext = BY_EXTENSION[path.extname(name).toLowerCase()];
  if (ext) return ext;
  if (type.startsWith('text/') || type === 'application/json') return 'text';
  return null;
}
