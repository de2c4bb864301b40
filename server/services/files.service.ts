import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Readable, Transform, pipeline as pipeStreams } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createContentMac, createDecryptStream, createEncryptStream } from '../../crypto/index.js';
import * as codec from '../codec/index.js';
import { asBuffer } from '../db/index.js';
import { notFound, tooLarge } from '../errors.js';
import { MAX_TEXT_CHARS, decodeText, looksBinary } from '../files/extract.js';
import type { Extractor } from '../files/extraction/extractor.js';
import { TYPE_BY_EXTENSION, fileKind } from '../files/extraction/file-kind.js';
import { ExtractionFailure, type StoredExtraction } from '../files/extraction/reasons.js';
import type { FileStore, PendingFile } from '../files/store.js';
import type { FilesRepository } from '../repositories/files.repository.js';
import type { ItemsRepository } from '../repositories/items.repository.js';
import { tagKeyText, type Item, type ItemsService } from './items.service.js';
import type { SessionContext } from './keyring.js';

type FileMeta = codec.FileMeta;
/** Where a best-effort clean-up's failure is told (the request's logger). */
type WarnLog = { warn(obj: object, msg: string): void };

const streamArgs = (s: { key: Buffer; aad: string }) => [s.key, s.aad] as const;

const TEXT_TYPES: Record<string, string> = {
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.markdown': 'text/markdown',
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.log': 'text/plain',
};

/** Strips paths, control and bidi characters; keeps something a person recognises. */
export function safeFileName(name: string | undefined): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  const clean = base
    .normalize('NFC')
    // eslint-disable-next-line no-control-regex -- control characters are what it removes
    .replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/^[.\s]+/, '')
    .trim();
  return shorten(clean, MAX_NAME_CHARS) || 'file';
}

const MAX_NAME_CHARS = 200;

/**
 * A name cut to `max` UTF-16 units at a code point, its extension kept: the extension says what
 * the file is (it decides how it is read), and half a surrogate pair cannot be downloaded.
 */
function shorten(name: string, max: number): string {
  if (name.length <= max) return name;
  const ext = /\.[\p{L}\p{N}]{1,10}$/u.exec(name)?.[0] ?? '';
  const stem = [...name.slice(0, name.length - ext.length)];
  let out = '';
  for (const ch of stem) {
    if (out.length + ch.length + ext.length > max) break;
    out += ch;
  }
  return out.trimEnd() + ext;
}

/** RFC 6266 / 5987: an ASCII fallback plus the exact UTF-8 name; always an attachment. */
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\;]/g, '_');
  // encodeURIComponent leaves ' ( ) * as they are; RFC 5987's attr-char has none of them.
  const exact = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${exact}`;
}

function detectType(name: string, declared: string, head: Buffer): string {
  if (head.subarray(0, 5).toString('latin1') === '%PDF-') return 'application/pdf';
  const ext = path.extname(name).toLowerCase();
  if (TEXT_TYPES[ext]) return TEXT_TYPES[ext]!;
  const valid = /^[\w.+-]+\/[\w.+-]+$/.test(declared) && declared.toLowerCase() !== 'application/octet-stream';
  if (!valid && TYPE_BY_EXTENSION[ext]) return TYPE_BY_EXTENSION[ext]!;
  return valid ? declared.toLowerCase() : 'application/octet-stream';
}

/**
 * A text upload's text, read at once. A binary file sent as text (a photo renamed `.txt`) is an
 * unsupported type: stored as sent, but its bytes are not text to show or search.
 */
function readTextUpload(head: Buffer): { text: string; extraction: StoredExtraction } {
  if (looksBinary(head)) return { text: '', extraction: { status: 'none', code: 'unsupported' } };
  const text = decodeText(head);
  // A text file longer than what is kept says its end is not in the text.
  if (!text.trim()) return { text, extraction: { status: 'none', code: 'no_text' } };
  return { text, extraction: text.length >= MAX_TEXT_CHARS ? { status: 'ok', code: 'text_cut' } : { status: 'ok' } };
}

export class FilesService {
  constructor(
    private readonly files: FilesRepository,
    private readonly itemsRepo: ItemsRepository,
    private readonly items: ItemsService,
    private readonly store: FileStore,
    private readonly opts: { pdfMaxBytes: number; extractMaxBytes: number },
    private readonly extractor: Extractor,
  ) {}

  #readLater?: (session: SessionContext, itemId: string) => Promise<unknown>;

  /** Where uploads whose text takes long to read (OCR, Office, e-mail) are queued: a background job. */
  useExtractionJobs(start: (session: SessionContext, itemId: string) => Promise<unknown>): void {
    this.#readLater = start;
  }

  /**
   * Streams an upload through a keyed MAC and segment encryption straight to disk: the
   * plaintext is never whole in memory (only text files' first MBs, kept for extraction).
   * Returns the existing item when the same content was uploaded before.
   */
  async upload(
    session: SessionContext,
    input: {
      stream: Readable & { truncated?: boolean };
      filename: string;
      mimetype: string;
      tags?: string[];
      data?: Record<string, unknown>;
      /** Told when removing a failed upload's object fails too (the upload's own error is what is thrown). */
      log?: WarnLog;
    },
  ): Promise<{ item: Item; created: boolean }> {
    const { keys, userId } = session;
    const fileId = randomUUID();
    const name = safeFileName(input.filename);
    const mac = createContentMac(keys.subkey('dedupe'));
    let size = 0;
    let head = Buffer.alloc(0);
    const textChunks: Buffer[] = [];
    let textBytes = 0;
    const maybeText = !!TEXT_TYPES[path.extname(name).toLowerCase()] || input.mimetype.startsWith('text/');
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        mac.update(chunk);
        size += chunk.length;
        if (head.length < 8) head = Buffer.concat([head, chunk.subarray(0, 8)]);
        if (maybeText && textBytes < MAX_TEXT_CHARS * 4) {
          textChunks.push(chunk);
          textBytes += chunk.length;
        }
        cb(null, chunk);
      },
    });

    let contentMac: Buffer | undefined;
    const temp = this.store.createTemp(userId, fileId);
    // Once the row exists the object is the file: a later failure must not delete it.
    let kept = false;
    const content = codec.fileContent.stream(keys, userId, fileId);
    try {
      await pipeline(input.stream, meter, createEncryptStream(content.key, content.aad), temp.stream);
      if (input.stream.truncated) throw tooLarge('The file is larger than this server accepts.');

      contentMac = mac.digest();
      const existing = await this.files.findByMac(userId, contentMac);
      if (existing) {
        const row = await this.itemsRepo.findByFile(userId, existing.id);
        if (row) {
          await this.store.discard(temp);
          // Uploading a file again means "I want it in my vault, tagged so": out of the trash,
          // with the tags sent now added to the ones it has.
          if (row.deleted_at) await this.itemsRepo.setDeleted(userId, row.id, false);
          const item = await this.items.get(session, row.id);
          const has = new Set(item.tags.map(tagKeyText));
          const added = [...new Set((input.tags ?? []).filter((t) => !has.has(tagKeyText(t))))];
          return { item: added.length ? await this.items.update(session, row.id, { tags: [...item.tags, ...added] }) : item, created: false };
        }
        // The same bytes stored by an upload whose item was never made: that file goes, this one stays.
        await this.#removeUnused(userId, existing.id);
      }

      const contentType = detectType(name, input.mimetype, head);
      const kind = fileKind(contentType, name);
      let text = '';
      let pages: number | undefined;
      let extraction: StoredExtraction;
      if (kind === 'text') {
        ({ text, extraction } = readTextUpload(Buffer.concat(textChunks)));
      } else if (!kind) {
        extraction = { status: 'none', code: 'unsupported' };
      } else if (size > (kind === 'pdf' ? Math.min(this.opts.pdfMaxBytes, this.opts.extractMaxBytes) : this.opts.extractMaxBytes)) {
        extraction = { status: 'failed', code: 'too_large' };
      } else if (kind === 'pdf') {
        // The text layer is quick and read now; pages without one are OCR'd by a job.
        try {
          const r = await this.extractor.pdfTextLayer(await this.#readAll(temp, content));
          text = r.text;
          pages = r.pages;
          extraction = r.needsOcr ? { status: 'pending', pages } : { status: 'ok', pages, ...(r.cut ? { code: 'text_cut' as const } : {}) };
        } catch (err) {
          if (!(err instanceof ExtractionFailure)) throw err;
          extraction = { status: 'failed', code: err.code };
        }
      } else {
        extraction = { status: 'pending' };
      }

      await this.#insertRow(session, fileId, contentMac, size, { name, contentType });
      kept = true;
      const item = await this.items
        .create(session, {
          kind: 'document',
          source: 'upload',
          type: contentType,
          title: name.replace(/\.[^.]{1,8}$/, '').trim() || name,
          text,
          tags: input.tags,
          fileId,
          data: { fileName: name, contentType, size, ...(pages !== undefined ? { pages } : {}), ...input.data },
          extraction,
        })
        .catch(async (err: unknown) => {
          // Refused (bad tags, say): nothing of the upload is kept, and the same file can come again.
          await this.#removeUnused(userId, fileId);
          throw err;
        });
      if (extraction.status === 'pending') {
        if (!this.#readLater)
          return {
            item: (await this.items.applyExtraction(session, item.id, { extraction: { status: 'failed', code: 'unsupported' } })) ?? item,
            created: true,
          };
        await this.#readLater(session, item.id);
      }
      return { item, created: true };
    } catch (err) {
      if (!kept) await this.#discardAfterFailure(temp, input.log);
      if ((err as { code?: string }).code === '23505' && contentMac) {
        // The same content raced in from another request: answer with the winner.
        const again = await this.files.findByMac(userId, contentMac);
        const row = again && (await this.itemsRepo.findByFile(userId, again.id));
        if (row) return { item: await this.items.get(session, row.id), created: false };
      }
      throw err;
    }
  }

  /**
   * Stores bytes an integration extracted (a FHIR attachment) as an encrypted file with no item
   * of its own: the record it belongs to links it. The same content stored before is reused, so
   * a re-import adds no file.
   */
  async storeAttachment(session: SessionContext, input: { name: string; contentType: string; bytes: Uint8Array }): Promise<{ fileId: string; size: number }> {
    const { keys, userId } = session;
    const mac = createContentMac(keys.subkey('dedupe'));
    mac.update(input.bytes);
    const contentMac = mac.digest();
    const existing = await this.files.findByMac(userId, contentMac);
    if (existing) return { fileId: existing.id, size: Number(existing.size) };
    const fileId = randomUUID();
    const temp = this.store.createTemp(userId, fileId);
    // Once the row exists the object is the file: a later failure must not delete it.
    let kept = false;
    try {
      await pipeline(
        Readable.from([Buffer.from(input.bytes)]),
        createEncryptStream(...streamArgs(codec.fileContent.stream(keys, userId, fileId))),
        temp.stream,
      );
      const meta: FileMeta = {
        name: safeFileName(input.name),
        contentType: /^[\w.+-]+\/[\w.+-]+$/.test(input.contentType) ? input.contentType.toLowerCase() : 'application/octet-stream',
      };
      await this.files.insert({
        id: fileId,
        user_id: userId,
        content_mac: contentMac,
        size: input.bytes.length,
        meta_ciphertext: codec.fileMeta.seal(keys, { userId, id: fileId, version: 1 }, meta),
      });
      kept = true;
      return { fileId, size: input.bytes.length };
    } catch (err) {
      if (!kept) await this.#discardAfterFailure(temp);
      if ((err as { code?: string }).code === '23505') {
        const again = await this.files.findByMac(userId, contentMac);
        if (again) return { fileId: again.id, size: Number(again.size) };
      }
      throw err;
    }
  }

  /** Lists the attachments stored items point at (`data.files`), for the purge's bookkeeping. */
  async linkAttachments(session: SessionContext, items: Item[]): Promise<void> {
    const links = items.flatMap((item) => {
      const files = Array.isArray(item.data?.files) ? (item.data.files as Array<{ fileId?: unknown }>) : [];
      return files.flatMap((f) => (typeof f.fileId === 'string' ? [{ itemId: item.id, fileId: f.fileId }] : []));
    });
    await this.files.linkItems(session.userId, links);
  }

  /** A stored file's plaintext, whole, for extraction (callers check its size first). */
  async readBytes(session: SessionContext, fileId: string): Promise<Buffer> {
    const { keys, userId } = session;
    if (!(await this.files.get(userId, fileId))) throw notFound('File');
    const chunks: Buffer[] = [];
    // A sink: the generator only consumes, so it never yields.
    await pipeline(
      this.store.openRead(userId, fileId),
      createDecryptStream(...streamArgs(codec.fileContent.stream(keys, userId, fileId))),
      // eslint-disable-next-line require-yield
      async function* (src) {
        for await (const c of src) chunks.push(c as Buffer);
      },
    );
    return Buffer.concat(chunks);
  }

  async #readAll(temp: PendingFile, content: { key: Buffer; aad: string }): Promise<Buffer> {
    const chunks: Buffer[] = [];
    // A sink: the generator only consumes, so it never yields.
    // eslint-disable-next-line require-yield
    await pipeline(this.store.openTemp(temp), createDecryptStream(content.key, content.aad), async function* (src) {
      for await (const c of src) chunks.push(c as Buffer);
    });
    return Buffer.concat(chunks);
  }

  /** Name, type and size of one file, or null when it is not this user's. */
  async describe(session: SessionContext, fileId: string): Promise<{ meta: FileMeta; size: number } | null> {
    const { keys, userId } = session;
    const row = await this.files.get(userId, fileId);
    if (!row) return null;
    const meta = codec.fileMeta.open(keys, { userId, id: fileId, version: 1 }, asBuffer(row.meta_ciphertext)) as FileMeta;
    return { meta, size: Number(row.size) };
  }

  /**
   * Stores a file restored from an export: encrypted and deduplicated like an upload, but
   * without creating an item or extracting text (the export's items.jsonl carries both).
   */
  async importFile(session: SessionContext, input: { stream: Readable; name: string; contentType?: string }): Promise<{ fileId: string; created: boolean }> {
    const { keys, userId } = session;
    const fileId = randomUUID();
    const name = safeFileName(input.name);
    const mac = createContentMac(keys.subkey('dedupe'));
    let size = 0;
    let head = Buffer.alloc(0);
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        mac.update(chunk);
        size += chunk.length;
        if (head.length < 8) head = Buffer.concat([head, chunk.subarray(0, 8)]);
        cb(null, chunk);
      },
    });
    const temp = this.store.createTemp(userId, fileId);
    // Once the row exists the object is the file: a later failure must not delete it.
    let kept = false;
    let contentMac: Buffer | undefined;
    try {
      await pipeline(input.stream, meter, createEncryptStream(...streamArgs(codec.fileContent.stream(keys, userId, fileId))), temp.stream);
      contentMac = mac.digest();
      const existing = await this.files.findByMac(userId, contentMac);
      if (existing) {
        await this.store.discard(temp);
        return { fileId: existing.id, created: false };
      }
      await this.#insertRow(session, fileId, contentMac, size, { name, contentType: detectType(name, input.contentType ?? '', head) });
      kept = true;
      return { fileId, created: true };
    } catch (err) {
      if (!kept) await this.#discardAfterFailure(temp);
      if ((err as { code?: string }).code === '23505' && contentMac) {
        const again = await this.files.findByMac(userId, contentMac);
        if (again) return { fileId: again.id, created: false };
      }
      throw err;
    }
  }

  /** The original bytes as a decrypting stream; a tampered file errors the stream. */
  async download(session: SessionContext, fileId: string): Promise<{ meta: FileMeta; size: number; stream: Readable }> {
    const { keys, userId } = session;
    const row = await this.files.get(userId, fileId);
    if (!row) throw notFound('File');
    const meta = codec.fileMeta.open(keys, { userId, id: fileId, version: 1 }, asBuffer(row.meta_ciphertext)) as FileMeta;
    // pipeline (not pipe) so a read error or a failed segment tag ends the response with an error.
    const stream = pipeStreams(
      this.store.openRead(userId, fileId),
      createDecryptStream(...streamArgs(codec.fileContent.stream(keys, userId, fileId))),
      () => {},
    );
    return { meta, size: Number(row.size), stream };
  }

  /**
   * Removes a failed write's object, best effort: the store that failed the write may fail this
   * too, and the write's own error (or the duplicate the caller then looks for) is what the
   * caller must see. A leftover object has no row, so nothing serves it.
   */
  async #discardAfterFailure(temp: PendingFile, log?: WarnLog): Promise<void> {
    await this.store
      .discard(temp)
      .catch((e: unknown) =>
        log?.warn({ err: { message: (e as Error)?.message, code: (e as { code?: string })?.code } }, 'removing a failed upload from storage failed'),
      );
  }

  /** Deletes a file's row and encrypted bytes when no item or version uses it; true when it went. */
  async removeIfUnused(session: SessionContext, fileId: string): Promise<boolean> {
    return this.#removeUnused(session.userId, fileId);
  }

  async #removeUnused(userId: string, fileId: string): Promise<boolean> {
    if (!(await this.files.deleteIfUnused(userId, fileId))) return false;
    await this.store.remove(userId, fileId);
    return true;
  }

  /** The file's row: the content MAC that dedupes it, its size, and its name and type sealed. */
  #insertRow(session: SessionContext, fileId: string, contentMac: Buffer, size: number, meta: FileMeta) {
    const { keys, userId } = session;
    return this.files.insert({
      id: fileId,
      user_id: userId,
      content_mac: contentMac,
      size,
      meta_ciphertext: codec.fileMeta.seal(keys, { userId, id: fileId, version: 1 }, meta),
    });
  }
}
