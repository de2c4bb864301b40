import { once } from 'node:events';
import { Transform, type Readable } from 'node:stream';
import tar from 'tar-stream';
import { ageEncryptStream, type AgeTarget } from '../../crypto/index.js';
import { rateLimited } from '../errors.js';
import type { Metrics } from '../metrics/registry.js';
import type { AuditRepository } from '../repositories/audit.repository.js';
import type { SessionContext } from '../services/keyring.js';
import { EXPORT_FORMAT, EXPORT_VERSION, type Manifest } from '../../contract/export.js';
import type { ExportOptions, ExportWriter, PortabilitySection } from './sections/section.js';
import { EncryptedSpool } from './spool.js';
import { MISSING_ENTRY } from './format.js';

class Aborted extends Error {}

/** Exports in progress on this instance: each holds a core busy with ChaCha20 and AES. */
const MAX_CONCURRENT_EXPORTS = 4;

/** Pino-shaped: the request's logger, so a failure mid-stream carries the request id. */
interface ExportLog {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * Streams a whole vault as an age-encrypted tar. Memory stays bounded whatever the vault's
 * size: file bodies are decrypted and re-encrypted 64 KiB at a time, JSON-lines sections go
 * through an encrypted spool on disk, and every stage waits for the one after it (the HTTP
 * socket at the end), so a slow client slows the database reads instead of filling memory.
 */
export class ExportService {
  readonly #sections: PortabilitySection[];

  constructor(
    sections: PortabilitySection[],
    private readonly opts: {
      spoolDir: string;
      audit: AuditRepository;
      metrics: Metrics;
      /**
       * Rejects when the file store does not answer: checked before the download's headers go
       * out, so an outage is a 503 the person can retry, not a saved file that ends short.
       */
      storageReady?: () => Promise<void>;
    },
  ) {
    this.#sections = [...sections];
  }

  /** Later areas (chats, health series) join here; order matters for import (see format.ts). */
  addSection(section: PortabilitySection): void {
    this.#sections.push(section);
  }

  get sections(): readonly PortabilitySection[] {
    return this.#sections;
  }

  #active = 0;

  /**
   * `POST /api/export`: {@link export} behind the per-instance concurrency limit, metered for the
   * export metrics (counts, bytes, seconds; never content) as the client reads it.
   */
  async download(
    session: SessionContext,
    target: AgeTarget,
    ctx: { requestId: string; log: ExportLog },
    options: ExportOptions = { includeTrash: false },
  ): Promise<Readable> {
    if (this.#active >= MAX_CONCURRENT_EXPORTS) throw rateLimited(30, 'The server is busy with other exports. Try again shortly.');
    this.#active++;
    const { metrics } = this.opts;
    const started = Date.now();
    let bytes = 0;
    let released = false;
    const release = (status: 'done' | 'failed') => {
      if (released) return;
      released = true;
      this.#active--;
      metrics.exports.inc({ status });
      metrics.exportBytes.inc({ recipient: 'recipient' in target ? 'x25519' : 'scrypt' }, bytes);
      metrics.exportSeconds.observe((Date.now() - started) / 1000);
    };
    let out: Readable;
    try {
      await this.opts.storageReady?.();
      out = await this.export(
        session,
        target,
        {
          requestId: ctx.requestId,
          onError: (err) => ctx.log.error({ err: { name: err.name, code: (err as { code?: string }).code } }, 'export failed mid-stream'),
          onWarn: (missing) => ctx.log.warn({ missing }, 'export left out what storage no longer holds'),
        },
        options,
      );
    } catch (err) {
      release('failed');
      throw err;
    }
    // A pass-through meter, not a 'data' listener: that would start the flow before the
    // reply pipes it, and the first bytes (the age header) would go to the listener only.
    const metered = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        cb(null, chunk);
      },
    });
    out.once('error', (err) => metered.destroy(err));
    metered.once('close', () => {
      out.destroy();
      release(metered.writableFinished && metered.readableEnded ? 'done' : 'failed');
    });
    out.pipe(metered);
    return metered;
  }

  async export(
    session: SessionContext,
    target: AgeTarget,
    hooks: { onError?: (err: Error) => void; onWarn?: (missing: Record<string, number>) => void; requestId?: string } = {},
    options: ExportOptions = { includeTrash: false },
  ): Promise<Readable> {
    const counts: Record<string, number> = {};
    for (const s of this.#sections) counts[s.name] = await s.count(session, options);
    const manifest: Manifest = {
      format: EXPORT_FORMAT,
      version: EXPORT_VERSION,
      created: new Date().toISOString(),
      includesTrash: options.includeTrash,
      counts,
    };
    // Recorded before any byte is produced, so a failing audit write stops the export cleanly.
    await this.opts.audit.record('export', session.userId, hooks.requestId);

    const pack = tar.pack();
    const ac = new AbortController();
    pack.once('close', () => ac.abort(new Aborted('export stream closed')));
    const mtime = new Date();

    const closed = new Promise<never>((_, reject) => ac.signal.addEventListener('abort', () => reject(new Aborted('export stream closed'))));
    closed.catch(() => {});

    const entry = async (name: string, size: number, body: (AsyncIterable<unknown> | Iterable<unknown>) & { destroy?: (e?: Error) => void }) => {
      try {
        if (ac.signal.aborted) throw new Aborted('export stream closed');
        let settle!: (err?: Error | null) => void;
        const finished = new Promise<void>((resolve, reject) => {
          settle = (err) => (err ? reject(err) : resolve());
        });
        // The entry fails when the client goes away mid-entry (the pack is destroyed): awaited
        // only once the body is written, so until then nothing else would handle the rejection.
        finished.catch(() => {});
        const sink = pack.entry({ name, size, mode: 0o600, mtime }, (err) => settle(err));
        // The callback above handles the entry's failure; tar-stream also emits it, and an
        // 'error' nobody listens to (a body that fails mid-entry: storage gone, a tampered
        // file) would throw out of the event loop and stop the server.
        sink.on('error', () => {});
        for await (const chunk of body) {
          if (!sink.write(chunk as Buffer)) await Promise.race([once(sink, 'drain'), closed]);
        }
        sink.end(() => {});
        await Promise.race([finished, closed]);
      } catch (err) {
        body.destroy?.(err instanceof Error ? err : undefined);
        throw err;
      }
    };

    const missing: Array<{ section: string; id: string }> = [];
    const writer: ExportWriter = {
      entry,
      missing: (section, id) => missing.push({ section, id }),
      jsonl: async (name, lines) => {
        const spool = new EncryptedSpool(this.opts.spoolDir);
        let n = 0;
        try {
          await spool.open();
          for await (const line of lines) {
            if (ac.signal.aborted) throw new Aborted('export stream closed');
            await spool.write(Buffer.from(`${JSON.stringify(line)}\n`, 'utf8'));
            n++;
          }
          await spool.close();
          await entry(name, spool.size, spool.read());
          return n;
        } finally {
          await spool.dispose();
        }
      },
    };

    void (async () => {
      const json = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
      await entry('manifest.json', json.length, [json]);
      for (const s of this.#sections) await s.export(session, writer, options);
      if (missing.length) await this.#incomplete(session, writer, missing, hooks);
      pack.finalize();
    })().catch((err: Error) => {
      if (!(err instanceof Aborted)) {
        hooks.onError?.(err);
        // The 'export' event was recorded before the first byte: the owner's activity must not
        // read as a whole export when the file they were sent ends short.
        void this.#record('export_failed', session, hooks);
      }
      pack.destroy(err);
    });

    return ageEncryptStream(pack, target);
  }

  /**
   * An export that went out whole but for what storage no longer held: the last entry names each
   * part left out (ids only), the activity log says the export is incomplete, the log counts them.
   */
  async #incomplete(
    session: SessionContext,
    writer: ExportWriter,
    missing: Array<{ section: string; id: string }>,
    hooks: { onWarn?: (counts: Record<string, number>) => void; requestId?: string },
  ): Promise<void> {
    await writer.jsonl(MISSING_ENTRY, missing);
    const counts: Record<string, number> = {};
    for (const m of missing) counts[m.section] = (counts[m.section] ?? 0) + 1;
    hooks.onWarn?.(counts);
    await this.#record('export_incomplete', session, hooks);
  }

  /** An audit event after the export began: best effort, the export's own outcome stands. */
  async #record(action: 'export_failed' | 'export_incomplete', session: SessionContext, hooks: { onError?: (err: Error) => void; requestId?: string }) {
    await this.opts.audit.record(action, session.userId, hooks.requestId).catch((err: Error) => hooks.onError?.(err));
  }
}
