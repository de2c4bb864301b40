/** Dashboard preferences (cards, their order, units) as preferences.jsonl: one line. */
import type { Readable } from 'node:stream';
import type { SessionContext } from '../../services/keyring.js';
import { Preferences, type PreferencesService } from '../../services/preferences.service.js';
import { readLines } from '../lines.js';
import { count, warn, WARNINGS, type ExportWriter, type ImportState, type PortabilitySection } from './section.js';

/**
 * What the person chose for their dashboard. Re-imported by merging into the account's own
 * choices, as a Settings change would, except that a choice changed after the export was made
 * stays (see {@link PreferencesService.restore}); a line this server does not understand (a card it has no
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

  async import(name: string, body: Readable, state: ImportState): Promise<void> {
    for await (const prefs of readLines(body, name, Preferences, 'preferences line')) {
      const before = canonical(await this.preferences.get(state.session));
      // An old export does not undo a choice made since: those keys stay, and the result says so.
      const { next, kept } = await this.preferences.restore(state.session, prefs, state.exportedAt);
      warn(state, WARNINGS.preferenceKept, kept);
      // Counted when the merge changed something: the account's own choices again count nothing.
      if (canonical(next) !== before) count(state, this.name);
      state.progress(1);
    }
  }
}

/** JSON with object keys sorted, so two equal preferences compare equal whatever their key order. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x,
  );
