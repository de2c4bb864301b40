import { z } from 'zod';
import { preferencesSchema } from '../../contract/index.js';
import * as codec from '../codec/index.js';
import { asBuffer } from '../db/index.js';
import { conflict } from '../errors.js';
import type { PreferencesRepository } from '../repositories/preferences.repository.js';
import type { LabGroup } from './health/lab-units.js';
import { METRIC_BY_KEY } from './health/metrics.js';
import type { SessionContext } from './keyring.js';

/** The contract's shape, with the card keys this server's metric table knows. */
export const Preferences = preferencesSchema(z.string().refine((k) => METRIC_BY_KEY.has(k) || k === 'workouts', 'must be a dashboard card'));
export type Preferences = z.infer<typeof Preferences>;

// One row per user; the codec binds it to this id and its version.
const ROW_ID = 'preferences';
/** Merges made again after losing a race before the client is told to retry (409). */
const MAX_MERGE_ATTEMPTS = 8;

/** Display preferences, sealed per user like every other thing they chose. */
export class PreferencesService {
  constructor(private readonly repo: PreferencesRepository) {}

  async get(session: SessionContext): Promise<Preferences> {
    return (await this.#read(session)).current;
  }

  /**
   * Merges `patch` into the stored preferences (units key by key). Two merges at once (two tabs,
   * a script beside the app) each touch different keys as a rule, so a merge that lost the race
   * is made again on what won instead of being refused.
   */
  async update(session: SessionContext, patch: Preferences): Promise<Preferences> {
    return this.#merge(session, (current) => over(current, patch));
  }

  /**
   * Merges preferences read back from an export made at `exportedAt`. Where the stored ones
   * changed after it (or its time is unknown), what is set here stays and the export only fills
   * in what is not; `kept` counts the export's values left out that way.
   */
  async restore(session: SessionContext, patch: Preferences, exportedAt: Date | undefined): Promise<{ next: Preferences; kept: number }> {
    let kept = 0;
    const next = await this.#merge(session, (current, changedAt) => {
      const newer = changedAt !== undefined && (exportedAt === undefined || changedAt > exportedAt);
      if (!newer) return over(current, patch);
      const merged = over(patch, current);
      kept = differing(over(current, patch), merged);
      return merged;
    });
    return { next, kept };
  }

  async #merge(session: SessionContext, combine: (current: Preferences, changedAt: Date | undefined) => Preferences): Promise<Preferences> {
    for (let attempt = 1; ; attempt++) {
      const { current, version: stored, changedAt } = await this.#read(session);
      const next = combine(current, changedAt);
      const version = stored + 1;
      const sealed = codec.preferences.seal(session.keys, { userId: session.userId, id: ROW_ID, version }, next);
      if (await this.repo.put(session.userId, version, sealed)) return next;
      if (attempt === MAX_MERGE_ATTEMPTS) throw conflict('Preferences were changed at the same time. Try again.', 'edit_conflict');
    }
  }

  async #read(session: SessionContext): Promise<{ current: Preferences; version: number; changedAt?: Date }> {
    const row = await this.repo.get(session.userId);
    if (!row) return { current: {}, version: 0 };
    const opened = codec.preferences.open(session.keys, { userId: session.userId, id: ROW_ID, version: row.version }, asBuffer(row.ciphertext));
    return { current: Preferences.parse(opened), version: row.version, changedAt: new Date(row.updated_at) };
  }

  /** The lab unit a person chose for a group's conversion family, if any. */
  async labUnits(session: SessionContext): Promise<(g: LabGroup) => string | undefined> {
    const units = (await this.get(session)).units ?? {};
    return (g) => (g.convert === 'hba1c' ? units.hba1c : g.convert ? units.glucose : undefined);
  }
}

/** `top` over `base`, units key by key. */
const over = (base: Preferences, top: Preferences): Preferences => ({ ...base, ...top, units: { ...base.units, ...top.units } });

/** How many keys (units one by one) hold different values in `a` and `b`. */
function differing(a: Preferences, b: Preferences): number {
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  const top = (['cards', 'hidden'] as const).filter((k) => !same(a[k], b[k])).length;
  const units = new Set([...Object.keys(a.units ?? {}), ...Object.keys(b.units ?? {})]) as Set<keyof NonNullable<Preferences['units']>>;
  return top + [...units].filter((k) => a.units?.[k] !== b.units?.[k]).length;
}
