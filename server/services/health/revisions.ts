/**
 * Samples a corrected FHIR resource takes back. When a source replaces an Observation with a
 * new version (a lab corrected, a reading marked entered-in-error), the record is updated in
 * place, but the series holds samples, not records: the old version's value would stay in the
 * day's readings and statistics next to the new one. These are the old version's samples that
 * the new version does not repeat, for the series service to remove.
 */
import { transformResource } from '../../../integrations/fhir/transform.js';
import type { QuantitySample } from '../../../integrations/types.js';
import type { CreateResult } from '../items.service.js';

/** Samples of the resource a stored record's data holds; none when it holds none or is not FHIR. */
export function samplesOfData(data: Record<string, unknown> | undefined): QuantitySample[] {
  const resource = data?.resource;
  if (!resource || typeof resource !== 'object' || (resource as { resourceType?: unknown }).resourceType === 'Bundle') return [];
  try {
    return transformResource(resource).samples;
  } catch {
    // A resource stored before today's checks (too deep, odd type) had no samples either.
    return [];
  }
}

const key = (s: QuantitySample): string => `${s.type}\u0000${s.startMs}\u0000${s.value}`;

/** For each update in `results`: the replaced version's samples that the new version does not have. */
export function replacedSamples(results: readonly CreateResult[]): QuantitySample[] {
  const out: QuantitySample[] = [];
  for (const r of results) {
    if (r.status !== 'updated' || !r.previous) continue;
    const before = samplesOfData(r.previous);
    if (before.length === 0) continue;
    const kept = new Set(samplesOfData(r.item.data ?? undefined).map(key));
    for (const s of before) if (!kept.has(key(s))) out.push(s);
  }
  return out;
}
