import { once } from 'node:events';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { ageEncryptStream, type AgeTarget } from '../../crypto/index.js';
import type { AuditRepository } from '../repositories/audit.repository.js';
import type { SessionContext } from '../services/keyring.js';
import { EXPORT_FORMAT, EXPORT_VERSION, type Manifest } from '../../contract/export.js';
import type { ExportOptions, ExportWriter, PortabilitySection } from './sections/section.js';
import { EncryptedSpool } from './spool.js';

class Aborted extends Error {}

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
    private readonly opts: { spoolDir: string; audit: AuditRepository },
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

  async export(
    session: SessionContext,
    target: AgeTarget,
    hooks: { onError?: (err: Error) => void; requestId?: string } = {},
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
        const sink = pack.entry({ name, size, mode: 0o600, mtime }, (err) => settle(err));
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

    const writer: ExportWriter = {
      entry,
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
      pack.finalize();
    })().catch((err: Error) => {
      if (!(err instanceof Aborted)) hooks.onError?.(err);
      pack.destroy(err);
    });

    return ageEncryptStream(pack, target);
  }
}
