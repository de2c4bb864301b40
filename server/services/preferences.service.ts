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

/** Display preferences, sealed per user like every other thing they chose. */
export class PreferencesService {
  constructor(private readonly repo: PreferencesRepository) {}

  async get(session: SessionContext): Promise<Preferences> {
    const row = await this.repo.get(session.userId);
    if (!row) return {};
    return Preferences.parse(codec.preferences.open(session.keys, { userId: session.userId, id: ROW_ID, version: row.version }, asBuffer(row.ciphertext)));
  }

  /** Merges `patch` into the stored preferences (units key by key). */
  async update(session: SessionContext, patch: Preferences): Promise<Preferences> {
    const row = await this.repo.get(session.userId);
    const current = row ? await this.get(session) : {};
    const next: Preferences = { ...current, ...patch, units: { ...current.units, ...patch.units } };
    const version = (row?.version ?? 0) + 1;
    const sealed = codec.preferences.seal(session.keys, { userId: session.userId, id: ROW_ID, version }, next);
    if (!(await this.repo.put(session.userId, version, sealed))) throw conflict('Preferences were changed at the same time. Try again.', 'edit_conflict');
    return next;
  }

  /** The lab unit a person chose for a group's conversion family, if any. */
  async labUnits(session: SessionContext): Promise<(g: LabGroup) => string | undefined> {
    const units = (await this.get(session)).units ?? {};
    return (g) => (g.convert === 'hba1c' ? units.hba1c : g.convert ? units.glucose : undefined);
  }
}
