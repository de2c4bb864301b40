import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { badRequest, notFound } from '../errors.js';
import type { Extractor } from '../files/extraction/extractor.js';
import { fileKind } from '../files/extraction/file-kind.js';
import { EXTRACTION_REASONS, ExtractionFailure, type StoredExtraction } from '../files/extraction/reasons.js';
import { JobFailure, type JobContext, type JobKind, type JobRunner } from '../jobs/runner.js';
import type { JobsRepository } from '../repositories/jobs.repository.js';
import type { FilesService } from './files.service.js';
import type { ItemsService } from './items.service.js';
import type { SessionContext } from './keyring.js';

export const EXTRACT_JOB = 'extract';

/** `jobs.input_format` of an extraction: the item it reads (its id is clear on the item row too). */
const ITEM_REF = /^item:([0-9a-f-]{36})$/;

/**
 * Pages read as the job shows them: never fewer than it showed before. A job resumed after a
 * restart reads its pages again from the first, and its bar must not jump back meanwhile.
 * `earlier` is the progress its previous runs recorded; a count of another total starts over.
 */
function monotonicPages(earlier: unknown): (done: number, total: number) => { done: number; total: number; unit: 'pages' } {
  const e = earlier as { done?: unknown; total?: unknown } | null;
  let shown = { done: typeof e?.done === 'number' ? e.done : 0, total: typeof e?.total === 'number' ? e.total : undefined };
  return (done, total) => {
    shown = { done: shown.total === total ? Math.max(shown.done, done) : done, total };
    return { done: shown.done, total, unit: 'pages' };
  };
}

/**
 * Reads stored files into their items' text in the background (OCR and Office files can take
 * minutes), page by page with progress, and records why when it cannot. E-mail attachments
 * become items of their own, each read the same way.
 */
export class ExtractionService implements JobKind {
  constructor(
    private readonly jobs: JobsRepository,
    private readonly runner: JobRunner,
    private readonly items: ItemsService,
    private readonly files: FilesService,
    private readonly extractor: Extractor,
    private readonly opts: { maxBytes: number },
  ) {}

  /**
   * Queues a (re-)read of the item's file; the item shows "pending" until it is done. Marked
   * pending again even when it already is: the text as it is now is what the read may replace.
   */
  async request(session: SessionContext, itemId: string): Promise<{ jobId: string }> {
    const item = await this.items.get(session, itemId);
    if (!item.fileId) throw badRequest('This item has no file to read.', 'no_file');
    await this.items.applyExtraction(session, itemId, { extraction: { status: 'pending' } });
    const id = randomUUID();
    await this.jobs.insert({
      id,
      userId: session.userId,
      kind: EXTRACT_JOB,
      progress: { done: 0, unit: 'pages' },
      inputRef: null,
      inputFormat: `item:${itemId}`,
    });
    this.runner.submit({ id, userId: session.userId }, session.keys);
    return { jobId: id };
  }

  /**
   * Extraction and OCR jobs queued or running on any instance (the `cv_backlog_items{queue="ocr"}`
   * gauge). Read per scrape: it counts rows of the partial index of active jobs only.
   */
  backlog(): Promise<number> {
    return this.jobs.countActive(EXTRACT_JOB);
  }

  async run(ctx: JobContext): Promise<void> {
    const itemId = ITEM_REF.exec(ctx.job.input_format ?? '')?.[1];
    if (!itemId) throw new JobFailure('This job names no item.', 'no_item');
    const { session } = ctx;
    const item = await this.items.get(session, itemId, { includeDeleted: true }).catch(() => null);
    if (!item?.fileId) return;
    const file = await this.files.describe(session, item.fileId);
    if (!file) throw notFound('File');
    const record = async (extraction: StoredExtraction, text?: string) => {
      await this.items.applyExtraction(session, itemId, { extraction, text });
      if (extraction.status === 'failed')
        throw new JobFailure(`This file could not be read: ${EXTRACTION_REASONS[extraction.code ?? 'damaged']}.`, extraction.code);
    };
    const kind = fileKind(file.meta.contentType, file.meta.name);
    if (!kind) return record({ status: 'none', code: 'unsupported' });
    if (file.size > this.opts.maxBytes) return record({ status: 'failed', code: 'too_large' });
    const bytes = await this.files.readBytes(session, item.fileId);
    const { fileId } = item;
    const gone = new AbortController();
    const shown = monotonicPages(ctx.job.progress);
    const onPages = async (done: number, total: number) => {
      ctx.progress(shown(done, total));
      // A permanent delete removes the item's file row with it: one small row read per page
      // stops OCR nobody will see (a trashed item is still read: it may be restored).
      if (done && !(await this.files.describe(session, fileId))) gone.abort();
    };
    let result;
    try {
      result = await this.extractor.extract(kind, bytes, onPages, AbortSignal.any([ctx.signal, gone.signal]));
    } catch (err) {
      if (gone.signal.aborted) return;
      // The server is stopping (or another instance took the job over): the read resumes from
      // its first page, so the item stays pending instead of showing a failure that is none.
      if (ctx.signal.aborted) throw err;
      if (!(err instanceof ExtractionFailure)) {
        await this.items.applyExtraction(session, itemId, { extraction: { status: 'failed', code: 'damaged' } }).catch(() => {});
        throw err;
      }
      return record({ status: err.status, code: err.code });
    }
    const children: Array<{ itemId: string; name: string }> = [];
    for (const a of result.attachments ?? []) {
      // Each attachment is an upload of its own, linked both ways; the same bytes again (a
      // resumed job, a forwarded mail) find the item stored before.
      const r = await this.files.upload(session, {
        stream: Readable.from([Buffer.from(a.bytes)]),
        filename: a.name,
        mimetype: a.contentType,
        data: { attachmentOf: itemId },
      });
      children.push({ itemId: r.item.id, name: a.name });
      ctx.count('attachments', r.created ? 1 : 0);
    }
    await this.items.applyExtraction(session, itemId, {
      extraction: result.extraction,
      text: result.text,
      ...(children.length ? { data: { attachments: children } } : {}),
    });
    if (result.extraction.status === 'failed') {
      throw new JobFailure(`This file could not be read: ${EXTRACTION_REASONS[result.extraction.code ?? 'damaged']}.`, result.extraction.code);
    }
  }

  describe(err: unknown): string | undefined {
    return err instanceof JobFailure ? err.message : undefined;
  }
}
