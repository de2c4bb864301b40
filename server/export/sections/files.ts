/** Files: metadata as files.jsonl, each body as its own tar entry. */
import type { Readable } from 'node:stream';
import type { ExportRepository } from '../../repositories/export.repository.js';
import type { FilesRepository } from '../../repositories/files.repository.js';
import type { FilesService } from '../../services/files.service.js';
import type { SessionContext } from '../../services/keyring.js';
import { ExportFile } from '../../../contract/export.js';
import { FILE_ENTRY, fileEntryName } from '../format.js';
import { readJsonLines } from '../lines.js';
import { count, type ExportWriter, type ImportState, type PortabilitySection } from './section.js';

export class FilesSection implements PortabilitySection {
  readonly name = 'files';
  constructor(
    private readonly files: FilesService,
    private readonly repo: FilesRepository,
    private readonly counts: ExportRepository,
  ) {}

  count(session: SessionContext): Promise<number> {
    return this.counts.files(session.userId);
  }

  async export(session: SessionContext, out: ExportWriter): Promise<void> {
    const ids = (await this.repo.listIds(session.userId)).map((r) => r.id);
    const metas: ExportFile[] = [];
    // Metadata first (ids and names only, small), so the importer knows each file's type
    // before its bytes arrive.
    for (const id of ids) {
      const f = await this.files.describe(session, id);
      if (f) metas.push({ id, name: f.meta.name, contentType: f.meta.contentType, size: f.size });
    }
    await out.jsonl('files.jsonl', metas);
    for (const m of metas) {
      const f = await this.files.download(session, m.id);
      await out.entry(fileEntryName(m.id, m.name), f.size, f.stream);
    }
  }

  accepts(name: string): boolean {
    return name === 'files.jsonl' || FILE_ENTRY.test(name);
  }

  async import(name: string, body: Readable, state: ImportState): Promise<void> {
    if (name === 'files.jsonl') {
      for await (const line of readJsonLines(body)) {
        const f = ExportFile.parse(line);
        state.fileMeta.set(f.id, f);
      }
      return;
    }
    const oldId = FILE_ENTRY.exec(name)![1]!;
    const meta = state.fileMeta.get(oldId);
    const fileName = meta?.name ?? name.slice(name.lastIndexOf('/') + 1);
    const r = await this.files.importFile(state.session, { stream: body, name: fileName, contentType: meta?.contentType });
    state.fileIds.set(oldId, r.fileId);
    count(state, this.name);
    state.progress(1);
  }
}
