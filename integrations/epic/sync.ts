/**
 * Sync of one patient's records from a SMART on FHIR server into vault records and samples.
 *
 * Epic quirks handled:
 * - An Observation search without `category` is answered 400, so vital signs and laboratory
 *   results are two searches.
 * - A type outside the granted scopes answers 403: skipped and reported, the rest goes on.
 * - Epic does not list `_lastUpdated` in its CapabilityStatement (Apotti R4 capture), so an
 *   incremental sync asks for `_lastUpdated=gt<cursor>` only where the server declares it, and
 *   re-reads everything elsewhere; idempotence comes from each record's stable
 *   `externalId`/`externalVersion`, which the vault dedupes on.
 */
import { transformBundle, transformResource } from '../fhir/transform.js';
import type { QuantitySample, RecordInput } from '../types.js';
import { EpicError, type FhirClient } from './fhir-client.js';

/** The searches of one sync, in order. `patient` is the launch context's patient id. */
export const EPIC_SEARCHES: ReadonlyArray<{ type: string; label: string; params?: Record<string, string> }> = [
  { type: 'Observation', label: 'Observation (vital signs)', params: { category: 'vital-signs' } },
  { type: 'Observation', label: 'Observation (laboratory)', params: { category: 'laboratory' } },
  { type: 'Condition', label: 'Condition' },
  { type: 'MedicationRequest', label: 'MedicationRequest' },
  { type: 'AllergyIntolerance', label: 'AllergyIntolerance' },
  { type: 'Immunization', label: 'Immunization' },
  { type: 'DiagnosticReport', label: 'DiagnosticReport' },
  { type: 'DocumentReference', label: 'DocumentReference' },
  { type: 'Procedure', label: 'Procedure' },
  { type: 'Encounter', label: 'Encounter' },
];

export interface EpicSink {
  records(batch: RecordInput[]): Promise<void>;
  samples(batch: QuantitySample[]): Promise<void>;
}

export interface EpicSyncResult {
  /** Records handed to the sink, per resource label. */
  counts: Record<string, number>;
  /** Labels skipped or cut short, with the reason (403 outside the granted scopes, the page cap). */
  skipped: Record<string, string>;
  /**
   * The next incremental cursor: when this sync started (overlap is applied on read), or the
   * cursor it started from when a search was cut short, so the unread rest is read next time.
   */
  cursor: string | undefined;
  incremental: boolean;
  /** Labels cut short by the page cap; a sentence for each is in `skipped`. */
  incomplete: string[];
}

/** Resource types whose search declares `_lastUpdated` in a CapabilityStatement. */
export function lastUpdatedTypes(capability: unknown): Set<string> {
  const out = new Set<string>();
  const rest = (capability as { rest?: Array<{ resource?: Array<{ type?: string; searchParam?: Array<{ name?: string }> }> }> })?.rest ?? [];
  for (const r of rest)
    for (const res of r.resource ?? []) {
      if (res.type && res.searchParam?.some((p) => p.name === '_lastUpdated')) out.add(res.type);
    }
  return out;
}

/** The patient id a reference (`Patient/x`, an absolute URL to it, a versioned one) names. */
function patientOfRef(ref: unknown): string | undefined {
  if (typeof ref !== 'string') return undefined;
  return /(?:^|\/)Patient\/([^/]+)(?:\/_history\/[^/]+)?$/.exec(ref)?.[1];
}

/** The patients a resource is about (its `subject` or `patient`); none for shared ones (a Medication). */
function patientsOf(r: Record<string, unknown>): Array<string | undefined> {
  if (r.resourceType === 'Patient') return [typeof r.id === 'string' ? r.id : undefined];
  const refs = [r.subject, r.patient].filter((x) => x !== undefined && x !== null);
  return refs.map((x) => patientOfRef((x as { reference?: unknown }).reference));
}

/**
 * One search page cut down to what belongs in this person's vault: a Bundle copy keeping the
 * entries of the searched type about the launch context's patient, plus what FHIR lets ride
 * along (`search.mode` include, OperationOutcome) unless those name another patient. Anything
 * else is dropped, so a server answering with another patient's or another type's records
 * cannot place them in this vault, and the counts describe what was stored.
 * @throws EpicError `bad_response` when the answer is not a searchset Bundle.
 */
function ownEntries(bundle: Record<string, unknown>, search: { type: string; label: string }, patientId: string): Record<string, unknown> {
  if (bundle.resourceType !== 'Bundle' || bundle.type !== 'searchset') {
    throw new EpicError('bad_response', `The health record server answered the ${search.label} search with something other than search results.`);
  }
  const entries = Array.isArray(bundle.entry) ? (bundle.entry as unknown[]) : [];
  const kept = entries.filter((e) => {
    const entry = e as { resource?: unknown; search?: { mode?: unknown } } | null;
    const r = entry && typeof entry === 'object' ? entry.resource : undefined;
    if (!r || typeof r !== 'object' || Array.isArray(r)) return false;
    const res = r as Record<string, unknown>;
    if (res.resourceType === 'OperationOutcome') return true;
    const about = patientsOf(res);
    if (res.resourceType === search.type) return about.length > 0 && about.every((p) => p === patientId);
    return entry!.search?.mode === 'include' && about.every((p) => p === patientId);
  });
  return { ...bundle, entry: kept };
}

/** How far before the cursor an incremental sync reads again (clock skew, late commits). */
const OVERLAP_MS = 10 * 60_000;

/**
 * Reads the patient and each search in {@link EPIC_SEARCHES}, page by page, handing every page's
 * records and samples to `sink` before the next page is fetched.
 * @throws EpicError for anything but a 403 on one search (reauth_required, rate_limited, ...).
 */
export async function syncEpic(client: FhirClient, ctx: { patientId: string; cursor?: string }, sink: EpicSink): Promise<EpicSyncResult> {
  const startedAt = new Date().toISOString();
  const counts: Record<string, number> = {};
  const skipped: Record<string, string> = {};
  let lastUpdated = new Set<string>();
  try {
    lastUpdated = lastUpdatedTypes(await client.get('metadata'));
  } catch (err) {
    if (!(err instanceof EpicError) || err.code === 'reauth_required') throw err;
    // No readable CapabilityStatement: every search is a full one, which is still idempotent.
  }
  const since = ctx.cursor ? new Date(Date.parse(ctx.cursor) - OVERLAP_MS).toISOString() : undefined;
  let incremental = false;

  const patient = await client.get(`Patient/${encodeURIComponent(ctx.patientId)}`);
  if (patient.resourceType !== 'Patient' || patient.id !== ctx.patientId) {
    throw new EpicError('bad_response', 'The health record server answered with a record of another patient than the one you authorized.');
  }
  const p = transformResource(patient, { source: 'epic' });
  await emit('Patient', p.records, p.samples);
  const incomplete: string[] = [];

  for (const s of EPIC_SEARCHES) {
    const params: Record<string, string> = { patient: ctx.patientId, ...s.params };
    if (since && lastUpdated.has(s.type)) {
      params._lastUpdated = `gt${since}`;
      incremental = true;
    }
    try {
      for await (const bundle of client.search(s.type, params)) {
        const t = transformBundle(ownEntries(bundle, s, ctx.patientId), { source: 'epic' });
        await emit(s.label, t.records, t.samples);
      }
    } catch (err) {
      if (err instanceof EpicError && err.code === 'forbidden') {
        skipped[s.label] = err.message;
        continue;
      }
      if (err instanceof EpicError && err.code === 'incomplete') {
        skipped[s.label] = err.message;
        incomplete.push(s.label);
        continue;
      }
      throw err;
    }
  }
  return { counts, skipped, cursor: incomplete.length ? ctx.cursor : startedAt, incremental, incomplete };

  async function emit(label: string, records: RecordInput[], samples: QuantitySample[]) {
    counts[label] = (counts[label] ?? 0) + records.length;
    if (records.length) await sink.records(records);
    if (samples.length) await sink.samples(samples);
  }
}
