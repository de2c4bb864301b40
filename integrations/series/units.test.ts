import { describe, expect, it } from 'vitest';
import { canonicalUnit, convertStats, convertValue, unitConversion } from './units.js';

const to = (v: number, from: string, unit: string, type?: string) => convertValue(v, unitConversion(from, unit, type)!);

describe('unitConversion', () => {
  it('converts temperatures, which have an offset, both ways', () => {
    expect(to(98.6, '[degF]', 'Cel')).toBeCloseTo(37, 10);
    expect(to(37, 'Cel', '[degF]')).toBeCloseTo(98.6, 10);
    expect(to(310.15, 'K', 'Cel')).toBeCloseTo(37, 10);
    expect(to(-40, 'degF', 'degC')).toBeCloseTo(-40, 10);
  });

  it('converts the volumes, masses and energies sources mix on one day', () => {
    expect(to(8, '[foz_us]', 'mL')).toBeCloseTo(236.588, 3);
    expect(to(1, 'fl_oz_imp', 'mL')).toBeCloseTo(28.413, 3);
    expect(to(11, 'st', 'kg')).toBeCloseTo(69.853, 3);
    expect(to(1, '[stone_av]', '[lb_av]')).toBeCloseTo(14, 10);
    expect(to(100, 'kJ', 'kcal')).toBeCloseTo(23.9, 1);
    expect(to(1, 'kPa', 'mm[Hg]')).toBeCloseTo(7.5006, 4);
  });

  it('converts glucose between mass and substance only for glucose', () => {
    expect(to(5.5, 'mmol/L', 'mg/dL', 'HKQuantityTypeIdentifierBloodGlucose')).toBeCloseTo(99.09, 2);
    expect(to(100, 'mg/dL', 'mmol/L', 'HKQuantityTypeIdentifierBloodGlucose')).toBeCloseTo(5.551, 3);
    expect(unitConversion('mmol/L', 'mg/dL')).toBeUndefined();
    expect(unitConversion('mmol/L', 'mg/dL', 'HKQuantityTypeIdentifierDietaryCholesterol')).toBeUndefined();
  });

  it('reads the spellings importers write for one rate as the same unit', () => {
    // Apple's importer writes UCUM "/min"; Fitbit (and Google) wrote Apple's own "count/min".
    expect(unitConversion('count/min', '/min')).toEqual({ scale: 1, offset: 0 });
    expect(unitConversion('/min', 'count/min')).toEqual({ scale: 1, offset: 0 });
    expect(unitConversion('{beats}/min', '/min')).toEqual({ scale: 1, offset: 0 });
    expect(to(2, 'count/s', '/min')).toBeCloseTo(120, 10);
    expect(to(120, '/min', '/h')).toBeCloseTo(7200, 10);
    expect(unitConversion('/min', 'min')).toBeUndefined();
    expect(unitConversion('/min', '')).toBeUndefined();
    expect(unitConversion('', 'count/min')).toBeUndefined();
  });

  it('refuses units of different dimensions and units it does not know', () => {
    expect(unitConversion('kcal', 'kg')).toBeUndefined();
    expect(unitConversion('Cel', 'kg')).toBeUndefined();
    expect(unitConversion('[fur_us]', 'm')).toBeUndefined();
    expect(unitConversion('furlong', 'furlong')).toEqual({ scale: 1, offset: 0 });
  });
});

describe('convertStats', () => {
  it('moves a sum of n values by n offsets', () => {
    const f = { count: 2, min: 97.7, max: 99.5, mean: 98.6, sum: 197.2 };
    const c = convertStats(f, unitConversion('[degF]', 'Cel')!);
    expect(c.count).toBe(2);
    expect(c.min).toBeCloseTo(36.5, 10);
    expect(c.max).toBeCloseTo(37.5, 10);
    expect(c.mean).toBeCloseTo(37, 10);
    expect(c.sum).toBeCloseTo(74, 10);
  });
});

describe('canonicalUnit', () => {
  it('gives one spelling for units written several ways, and leaves the rest as they are', () => {
    expect(canonicalUnit('count/min')).toBe('/min');
    expect(canonicalUnit('/min')).toBe('/min');
    expect(canonicalUnit('mmHg')).toBe('mm[Hg]');
    expect(canonicalUnit('degC')).toBe('Cel');
    expect(canonicalUnit('kg')).toBe('kg');
    expect(canonicalUnit('count')).toBe('count');
    expect(canonicalUnit('')).toBe('');
    expect(canonicalUnit('furlong')).toBe('furlong');
  });

  it('spells each unit so that it converts to the spelling it replaces', () => {
    for (const u of ['count/min', '{beats}/min', '{beat}/min', '{breaths}/min', 'count/s', 'count/h', 'mmHg', 'degC', 'degF', 'lb', 'Cal']) {
      expect(unitConversion(u, canonicalUnit(u)), u).toEqual({ scale: 1, offset: 0 });
    }
  });
});
