/** Chats as chats.jsonl. */
import { createHmac } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ExportChat } from '../../../contract/export.js';
import type { ExportRepository } from '../../repositories/export.repository.js';
import type { ChatService } from '../../services/chat.service.js';
import type { SessionContext } from '../../services/keyring.js';
import { readLines } from '../lines.js';
import { count, type ExportWriter, type ImportState, type PortabilitySection } from './section.js';

/**
 * A chat's id in the importing account: derived from the exported id under the account's own
 * dedupe key, so importing the same export twice finds the chat it made the first time.
 */
function stableUuid(key: Buffer, label: string): string {
  const h = createHmac('sha256', key).update(label).digest();
  h[6] = (h[6]! & 0x0f) | 0x40;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export class ChatsSection implements PortabilitySection {
  readonly name = 'chats';
  constructor(
    private readonly chats: ChatService,
    private readonly counts: ExportRepository,
  ) {}

  count(session: SessionContext): Promise<number> {
    return this.counts.chats(session.userId);
  }

  async export(session: SessionContext, out: ExportWriter): Promise<void> {
    const ids = await this.counts.chatIds(session.userId);
    const chats = this.chats;
    await out.jsonl(
      'chats.jsonl',
      (async function* () {
        for (const id of ids) {
          const c = await chats.get(session, id).catch(() => undefined);
          if (c) yield c;
        }
      })(),
    );
  }

  accepts(name: string): boolean {
    return name === 'chats.jsonl';
  }

  async import(name: string, body: Readable, state: ImportState): Promise<void> {
    const { session } = state;
    const here = new Set(await this.counts.chatIds(session.userId));
    for await (const c of readLines(body, name, ExportChat, 'chat')) {
      const id = stableUuid(session.keys.subkey('dedupe'), `chat|${c.id}`);
      const remapSource = <S extends { itemId: string | null }>(s: S): S => ({ ...s, itemId: s.itemId ? (state.itemIds.get(s.itemId) ?? null) : null });
      // Re-importing into the account it came from: the chat is already here under its own id.
      // Counted only when new: restore answers false for a chat an earlier import made.
      if (!here.has(c.id)) {
        const made = await this.chats.restore(session, {
          id,
          title: c.title,
          ...(c.model ? { model: c.model } : {}),
          messages: c.messages.map((m) => ({
            ...m,
            sources: m.sources.map(remapSource),
            ...(m.alternatives ? { alternatives: m.alternatives.map((a) => ({ ...a, sources: a.sources.map(remapSource) })) } : {}),
          })),
        });
        if (made) count(state, this.name);
      }
    }
  }
}
