import { describe, expect, it } from 'vitest';
import type { Item } from '../items.service.js';
import { labResult } from './observations.js';

const glucose = (value: unknown, referenceRange?: unknown[]): Item =>
  ({
    id: '00000000-0000-4000-8000-000000000001',
    kind: 'record',
    source: 'fhir',
    type: '2345-7',
    title: 'Glucose [Mass/volume] in Serum or Plasma',
    text: '',
    tags: [],
    occurredAt: '2026-03-01T08:00:00.000Z',
    createdAt: '2026-03-01T08:00:00.000Z',
    updatedAt: '2026-03-01T08:00:00.000Z',
    version: 1,
    data: { value, unit: 'mg/dL', ...(referenceRange ? { referenceRange } : {}) },
  }) as unknown as Item;

describe('labResult', () => {
  it('reads a numeric result with its range', () => {
    expect(labResult(glucose(131, [{ low: 70, high: 99, unit: 'mg/dL' }]))).toMatchObject({ name: 'Glucose', value: 131, low: 70, high: 99, unit: 'mg/dL' });
    // A negative result is a result (base excess, for one); the trend shows it as it is.
    expect(labResult(glucose(-5))).toMatchObject({ value: -5 });
  });

  it('leaves out a value or bound beyond ±1e15, as the series importers do', () => {
    expect(labResult(glucose(1e20))).toBeUndefined();
    expect(labResult(glucose(-1e16))).toBeUndefined();
    expect(labResult(glucose(Infinity))).toBeUndefined();
    const r = labResult(glucose(100, [{ low: -1e300, high: 99 }]))!;
    expect(r.low).toBeUndefined();
    expect(r.high).toBe(99);
  });
});

describe('labResult in words', () => {
  const words = (data: Record<string, unknown>): Item => ({ ...glucose(0), type: '75622-1', title: 'HIV 1 and 2 Ag+Ab', data }) as unknown as Item;

  it('reads a coded or text result that has no number', () => {
    const r = labResult(words({ valueText: 'Negative', valueCodes: [{ code: '260385009' }], interpretation: ['normal'] }))!;
    expect(r).toMatchObject({ text: 'Negative', interpretation: 'normal' });
    expect(r.value).toBeUndefined();
    expect(labResult(words({ valueText: 'Cloudy' }))).toMatchObject({ text: 'Cloudy' });
  });

  it('never reads a bad number or a missing value as words', () => {
    expect(labResult(words({ value: 1e20, unit: 'mg/dL', valueText: '1e20 mg/dL' }))).toBeUndefined();
    expect(labResult(words({ unit: 'mg/dL', valueText: 'mg/dL' }))).toBeUndefined();
    expect(labResult(words({ valueText: 'no value (Not Performed)' }))).toBeUndefined();
    expect(labResult(words({}))).toBeUndefined();
  });
});
