import { randomUUID } from 'node:crypto';
import type { ManualEntry } from '../../contract/index.js';
import { transformResource } from '../../integrations/fhir/transform.js';
import { SeriesAccumulator } from '../../integrations/series/day-chunk.js';
import type { QuantitySample } from '../../integrations/types.js';
import { notFound } from '../errors.js';
import { itemFromRecord, type Item, type ItemsService } from './items.service.js';
import type { SessionContext } from './keyring.js';
import type { SeriesService } from './series.service.js';

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const SOURCE_NAME = 'Manual entry';

const category = (code: 'vital-signs' | 'laboratory') => [
  { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code, display: code === 'laboratory' ? 'Laboratory' : 'Vital Signs' }] },
];
const loinc = (code: string, display: string) => ({ coding: [{ system: LOINC, code, display }], text: display });
const qty = (value: number, unit: string, display = unit) => ({ value, unit: display, system: UCUM, code: unit });

/**
 * The entry as the FHIR R4 resource a clinician's system would send (US Core vital-sign and lab
 * shapes), so it goes through the same transformer as every import and lands in the same charts,
 * lists, search and chat as records from a hospital.
 */
export function manualResource(e: ManualEntry, id: string, version: number): Record<string, unknown> {
  const meta = { versionId: String(version) };
  const note = e.note ? { note: [{ text: e.note }] } : {};
  switch (e.kind) {
    case 'blood_pressure':
      return {
        resourceType: 'Observation',
        id,
        meta,
        status: 'final',
        category: category('vital-signs'),
        code: loinc('85354-9', 'Blood pressure panel'),
        effectiveDateTime: e.at,
        component: [
          { code: loinc('8480-6', 'Systolic blood pressure'), valueQuantity: qty(e.systolic, 'mm[Hg]', 'mmHg') },
          { code: loinc('8462-4', 'Diastolic blood pressure'), valueQuantity: qty(e.diastolic, 'mm[Hg]', 'mmHg') },
        ],
        ...note,
      };
    case 'weight':
      return {
        resourceType: 'Observation',
        id,
        meta,
        status: 'final',
        category: category('vital-signs'),
        code: loinc('29463-7', 'Body weight'),
        effectiveDateTime: e.at,
        valueQuantity: e.unit === 'kg' ? qty(e.value, 'kg') : qty(e.value, '[lb_av]', 'lb'),
        ...note,
      };
    case 'glucose':
      return {
        resourceType: 'Observation',
        id,
        meta,
        status: 'final',
        category: category('laboratory'),
        code: loinc('2339-0', 'Glucose [Mass/volume] in Blood'),
        effectiveDateTime: e.at,
        valueQuantity: qty(e.value, e.unit),
        ...note,
      };
    case 'temperature':
      return {
        resourceType: 'Observation',
        id,
        meta,
        status: 'final',
        category: category('vital-signs'),
        code: loinc('8310-5', 'Body temperature'),
        effectiveDateTime: e.at,
        valueQuantity: e.unit === 'Cel' ? qty(e.value, 'Cel', '°C') : qty(e.value, '[degF]', '°F'),
        ...note,
      };
    case 'medication':
      return {
        resourceType: 'MedicationStatement',
        id,
        meta,
        status: e.status,
        medicationCodeableConcept: { text: e.name },
        ...(e.start || e.end ? { effectivePeriod: { ...(e.start ? { start: e.start } : {}), ...(e.end ? { end: e.end } : {}) } } : {}),
        ...(e.start ? {} : { dateAsserted: new Date().toISOString().slice(0, 10) }),
        ...(e.dosage ? { dosage: [{ text: e.dosage }] } : {}),
        ...note,
      };
    case 'allergy':
      return {
        resourceType: 'AllergyIntolerance',
        id,
        meta,
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: e.status }] },
        code: { text: e.substance },
        ...(e.criticality ? { criticality: e.criticality } : {}),
        ...(e.onset ? { onsetDateTime: e.onset } : { recordedDate: new Date().toISOString().slice(0, 10) }),
        ...(e.reaction ? { reaction: [{ manifestation: [{ text: e.reaction }] }] } : {}),
        ...note,
      };
    case 'condition':
      return {
        resourceType: 'Condition',
        id,
        meta,
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: e.status }] },
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item' }] }],
        code: { text: e.name },
        ...(e.onset ? { onsetDateTime: e.onset } : { recordedDate: new Date().toISOString().slice(0, 10) }),
        ...(e.abatement ? { abatementDateTime: e.abatement } : {}),
        ...note,
      };
  }
}

/**
 * Entries people type in themselves: stored as FHIR-shaped records of source `manual` (the
 * original resource sealed with the item, like any import), their measurements added to the
 * daily series so they appear on the dashboard's charts. Editing rewrites the record in place
 * (same item, next version) and moves its samples.
 */
export class ManualService {
  constructor(
    private readonly items: ItemsService,
    private readonly series: SeriesService,
  ) {
    // A hand entry's samples leave its chart with it and come back when it is restored, whether
    // it went through DELETE /api/records/manual/:id or the vault's own trash.
    items.onTrashMove(async (session, item, move) => {
      const resource = item.data?.resource;
      if (item.source !== 'manual' || !resource || typeof resource !== 'object') return;
      const samples = samplesOf(resource as Record<string, unknown>);
      if (!samples.length) return;
      if (move === 'trashed') await this.series.remove(session, samples);
      else await this.#storeSamples(session, samples);
    });
  }

  async create(session: SessionContext, entry: ManualEntry): Promise<Item> {
    return this.#save(session, entry, randomUUID(), 1);
  }

  async update(session: SessionContext, itemId: string, entry: ManualEntry): Promise<Item> {
    const { item, resource } = await this.#own(session, itemId);
    const version = Number((resource.meta as { versionId?: string } | undefined)?.versionId ?? 1) + 1;
    await this.series.remove(session, samplesOf(resource));
    return this.#save(session, entry, String(resource.id ?? item.id), version);
  }

  async remove(session: SessionContext, itemId: string): Promise<void> {
    await this.#own(session, itemId);
    await this.items.trash(session, itemId);
  }

  async #own(session: SessionContext, itemId: string): Promise<{ item: Item; resource: Record<string, unknown> }> {
    const item = await this.items.get(session, itemId);
    const resource = item.data?.resource;
    // Only hand entries are edited here; an imported record is the source's word.
    if (item.source !== 'manual' || !resource || typeof resource !== 'object') throw notFound('Manual entry');
    return { item, resource: resource as Record<string, unknown> };
  }

  async #save(session: SessionContext, entry: ManualEntry, id: string, version: number): Promise<Item> {
    const resource = manualResource(entry, id, version);
    const out = transformResource(resource, { source: 'manual' });
    const record = out.records[0]!;
    record.tags = [...record.tags, 'manual'];
    const [saved] = await this.items.createMany(session, [itemFromRecord(record)]);
    await this.#storeSamples(
      session,
      out.samples.map((s) => ({ ...s, sourceName: SOURCE_NAME })),
    );
    return saved!.item;
  }

  async #storeSamples(session: SessionContext, samples: QuantitySample[]): Promise<void> {
    if (!samples.length) return;
    const acc = new SeriesAccumulator();
    acc.addMany(samples);
    await this.series.store(session, acc.drainAll());
  }
}

/** The samples a stored hand entry put into the series. */
function samplesOf(resource: Record<string, unknown>): QuantitySample[] {
  return transformResource(resource, { source: 'manual' }).samples.map((s) => ({ ...s, sourceName: SOURCE_NAME }));
}
