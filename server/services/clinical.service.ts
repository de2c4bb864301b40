import type { ClinicalEntry, ClinicalKind } from '../../contract/index.js';
import { sourceDay } from './health/source-day.js';
import type { Item, ItemsService } from './items.service.js';
import type { SessionContext } from './keyring.js';

/** Records read per list: enough for a long life of prescriptions, bounded whatever the vault holds. */
const MAX_ITEMS = 5_000;

export type { ClinicalEntry, ClinicalKind };

const TAG: Record<ClinicalKind, string> = {
  medications: 'medication',
  allergies: 'allergy',
  conditions: 'condition',
  immunizations: 'immunization',
  procedures: 'procedure',
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

/**
 * Medications, allergies, conditions, immunizations and procedures as a clinician reads them:
 * current before past, active before resolved, newest first, with the same thing reported by
 * several sources (the hospital's record, Apple's copy of it, a hand entry) shown once with each
 * source listed.
 */
export class ClinicalService {
  constructor(private readonly items: ItemsService) {}

  async list(session: SessionContext, kind: ClinicalKind, q: { from?: Date; to?: Date } = {}): Promise<ClinicalEntry[]> {
    const items = await this.items.recent(session, { tags: [TAG[kind]], from: q.from, to: q.to, limit: MAX_ITEMS });
    return merge(items.filter((i) => usable(i, kind)).map((i) => entryOf(i, kind)));
  }
}

const RESOURCE: Record<ClinicalKind, string[]> = {
  medications: ['MedicationRequest', 'MedicationStatement'],
  allergies: ['AllergyIntolerance'],
  conditions: ['Condition'],
  immunizations: ['Immunization'],
  procedures: ['Procedure'],
};

function usable(i: Item, kind: ClinicalKind): boolean {
  const d = i.data ?? {};
  if (!RESOURCE[kind].includes(str(d.resourceType) ?? '')) return false;
  if (i.tags.includes('entered-in-error') || d.status === 'entered-in-error' || d.verificationStatus === 'entered-in-error') return false;
  return d.verificationStatus !== 'refuted';
}

const PAST_MED = new Set(['completed', 'stopped', 'cancelled', 'not-taken', 'ended']);
const RESOLVED = new Set(['inactive', 'resolved', 'remission']);

function entryOf(i: Item, kind: ClinicalKind): ClinicalEntry {
  const d = i.data ?? {};
  const res: Obj = isObj(d.resource) ? d.resource : {};
  const codes = Array.isArray(d.codes) ? (d.codes.filter(isObj) as ClinicalEntry['code'][]) : [];
  const code = codes.find((c) => c?.system) ?? codes[0];
  const name = stripTag(str(d.name) ?? i.title);
  const day = sourceDay(i);
  const e: ClinicalEntry = {
    key: `${code ? `${code.system ?? ''}|${code.code}` : name.toLowerCase()}|${day ?? ''}`,
    name,
    date: i.occurredAt,
    day,
    group: '',
    sources: [{ itemId: i.id, source: i.source }],
  };
  if (code) e.code = code;
  const status = str(d.status) ?? str(d.clinicalStatus);
  if (status) e.status = status;
  const now = Date.now();
  if (kind === 'medications') {
    const end = str(obj(res.effectivePeriod)?.end) ?? str(obj(obj(res.dispenseRequest)?.validityPeriod)?.end);
    if (end) e.end = end;
    const ended = end !== undefined && Date.parse(end) < now;
    e.group = PAST_MED.has(status ?? '') || ended ? 'past' : 'current';
    const dosage = Array.isArray(d.dosage) ? d.dosage.filter((x): x is string => typeof x === 'string') : [];
    if (dosage.length) e.detail = dosage.join('; ');
  } else if (kind === 'conditions') {
    const abated = str(d.abatement);
    if (abated) e.end = abated;
    e.group = RESOLVED.has(str(d.clinicalStatus) ?? '') || (abated !== undefined && !str(d.clinicalStatus)) ? 'resolved' : 'active';
  } else if (kind === 'allergies') {
    e.group = RESOLVED.has(str(d.clinicalStatus) ?? '') ? 'resolved' : 'active';
    if (str(d.criticality)) e.criticality = str(d.criticality);
    const reactions = Array.isArray(d.reactions) ? d.reactions.filter(isObj) : [];
    const words = reactions.flatMap((r) => {
      const m = Array.isArray(r.manifestations) ? r.manifestations.filter((x): x is string => typeof x === 'string') : [];
      const what = m.length ? m.join(', ') : (str(r.description) ?? '');
      return what ? [str(r.severity) ? `${what} (${str(r.severity)})` : what] : [];
    });
    if (words.length) e.reactions = words;
  } else if (kind === 'immunizations') {
    e.group = status === 'not-done' ? 'not-given' : 'given';
  } else {
    e.group = status === 'not-done' ? 'not-done' : 'done';
  }
  return e;
}

const GROUP_ORDER = ['current', 'active', 'given', 'done', 'past', 'resolved', 'not-given', 'not-done'];

/** Same key (code and day) = the same fact from several sources: one entry, every source kept. */
function merge(entries: ClinicalEntry[]): ClinicalEntry[] {
  const byKey = new Map<string, ClinicalEntry>();
  for (const e of entries) {
    const have = byKey.get(e.key);
    if (!have) {
      byKey.set(e.key, e);
      continue;
    }
    have.sources.push(...e.sources);
    // A hand entry or a later source may know more (a reaction, an end date): keep what is known.
    have.detail ??= e.detail;
    have.end ??= e.end;
    have.criticality ??= e.criticality;
    have.reactions ??= e.reactions;
    if (e.group !== have.group && GROUP_ORDER.indexOf(e.group) > GROUP_ORDER.indexOf(have.group)) have.group = e.group;
  }
  return [...byKey.values()].sort(
    (a, b) => GROUP_ORDER.indexOf(a.group) - GROUP_ORDER.indexOf(b.group) || (b.date ?? '').localeCompare(a.date ?? '') || a.name.localeCompare(b.name),
  );
}

function obj(v: unknown): Obj | undefined {
  return isObj(v) ? v : undefined;
}

function stripTag(name: string): string {
  return name.replace(/\s+\((disorder|finding|substance|product|procedure|situation)\)$/i, '').trim();
}
