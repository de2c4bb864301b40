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
