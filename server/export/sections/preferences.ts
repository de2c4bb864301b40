/** Dashboard preferences (cards, their order, units) as preferences.jsonl: one line. */
import type { Readable } from 'node:stream';
import type { SessionContext } from '../../services/keyring.js';
import { Preferences, type PreferencesService } from '../../services/preferences.service.js';
import { readJsonLines } from '../lines.js';
import { count, type ExportWriter, type ImportState, type PortabilitySection } from './section.js';

/**
 * What the person chose for their dashboard. Re-imported by merging into the account's own
 * choices, as a Settings change would; a line this server does not understand (a card it has no
 * metric for) is refused by the same schema the preferences route uses.
 */
export class PreferencesSection implements PortabilitySection {
  readonly name = 'preferences';
  constructor(private readonly preferences: PreferencesService) {}

  async count(session: SessionContext): Promise<number> {
    return Object.keys(await this.preferences.get(session)).length ? 1 : 0;
  }

  async export(session: SessionContext, out: ExportWriter): Promise<void> {
    const prefs = await this.preferences.get(session);
    await out.jsonl('preferences.jsonl', Object.keys(prefs).length ? [prefs] : []);
  }

  accepts(name: string): boolean {
    return name === 'preferences.jsonl';
  }

  async import(_name: string, body: Readable, state: ImportState): Promise<void> {
    for await (const line of readJsonLines(body)) {
      await this.preferences.update(state.session, Preferences.parse(line));
      count(state, this.name);
      state.progress(1);
    }
  }
}
