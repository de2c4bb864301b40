import { describe, expect, it } from 'vitest';
import { convert, labGroup, roundFor, ucumOf, unitsFor } from './lab-units.js';
import { flagOfInterpretation, flagOfRange } from './observations.js';

describe('lab units', () => {
  const glucose = labGroup('2339-0');
  const a1c = labGroup('59261-8');
  const ldl = labGroup('13457-7');

  it('matches LOINC variants of one analyte to one group', () => {
    expect(glucose.code).toBe('2345-7');
    expect(a1c.code).toBe('4548-4');
    expect(ldl.code).toBe('18262-6');
    expect(labGroup('99999-9', 'Something rare')).toMatchObject({ code: '99999-9', name: 'Something rare', panel: 'Other results', codes: ['99999-9'] });
  });

  it('reads the spellings sources use as UCUM', () => {
    expect(ucumOf('mg/dl')).toBe('mg/dL');
    expect(ucumOf('mmol/l')).toBe('mmol/L');
    expect(ucumOf('mmol/mol Hb')).toBe('mmol/mol');
    expect(ucumOf('10*3/uL')).toBe('10*3/uL');
    expect(ucumOf(undefined)).toBeUndefined();
  });

  it('converts glucose by its molar mass, cholesterol by its own, both ways', () => {
    expect(roundFor('mg/dL', convert(glucose, 5.5, 'mmol/L', 'mg/dL')!)).toBe(99);
    expect(roundFor('mmol/L', convert(glucose, 126, 'mg/dL', 'mmol/L')!)).toBe(6.99);
    expect(roundFor('mmol/L', convert(ldl, 130, 'mg/dL', 'mmol/L')!)).toBe(3.36);
    expect(roundFor('mmol/L', convert(labGroup('2571-8'), 150, 'mg/dL', 'mmol/L')!)).toBe(1.69);
    expect(convert(glucose, 5, 'mmol/L', 'mmol/L')).toBe(5);
    expect(convert(glucose, 5, 'g/L', 'mg/dL')).toBeUndefined();
    expect(convert(labGroup('718-7'), 13, 'g/dL', 'g/L')).toBeUndefined();
  });

  it('converts HbA1c with the IFCC-NGSP master equation', () => {
    // Published pairs: 48 mmol/mol = 6.5 %, 53 mmol/mol = 7.0 %, 42 mmol/mol = 6.0 %.
    expect(roundFor('%', convert(a1c, 48, 'mmol/mol', '%')!)).toBe(6.5);
    expect(roundFor('%', convert(a1c, 53, 'mmol/mol', '%')!)).toBe(7);
    expect(roundFor('mmol/mol', convert(a1c, 6, '%', 'mmol/mol')!)).toBe(42);
    expect(unitsFor(a1c)).toEqual(['%', 'mmol/mol']);
    expect(unitsFor(labGroup('718-7'))).toEqual([]);
  });

  it('flags from the interpretation first, else from the range', () => {
    expect(flagOfInterpretation(['critically high'])).toBe('high');
    expect(flagOfInterpretation(['low'])).toBe('low');
    expect(flagOfInterpretation(['abnormal'])).toBe('abnormal');
    expect(flagOfInterpretation(['not detected'])).toBe('normal');
    expect(flagOfInterpretation([])).toBeUndefined();
    expect(flagOfRange(100, 70, 99)).toBe('high');
    expect(flagOfRange(60, 70, undefined)).toBe('low');
    expect(flagOfRange(80, 70, 99)).toBe('normal');
    expect(flagOfRange(80, undefined, undefined)).toBeUndefined();
    // Bounds: "<0.5" under a range from 0.6 is low; "<2" across a range says nothing; ">10" over 8 is high.
    expect(flagOfRange(0.5, 0.6, 1.3, '<')).toBe('low');
    expect(flagOfRange(2, 0.6, 1.3, '<')).toBeUndefined();
    expect(flagOfRange(10, 0, 8, '>')).toBe('high');
    expect(flagOfRange(8, 0, 8, '>=')).toBeUndefined();
    expect(flagOfRange(0.1, undefined, 0.5, '<')).toBe('normal');
  });
});

describe('series of one analyte in two units', () => {
  it('gives the factor plain unit arithmetic lacks', async () => {
    const { analyteFactor } = await import('./lab-units.js');
    expect(analyteFactor('2339-0', 'mmol/L', 'mg/dL')).toBeCloseTo(18.0156, 6);
    expect(analyteFactor('HKQuantityTypeIdentifierBloodGlucose', 'mg/dL', 'mmol/L')).toBeCloseTo(1 / 18.0156, 8);
    expect(analyteFactor('8480-6', 'mm[Hg]', 'kPa')).toBeUndefined();
  });

  it('knows every lab code measured in both units as the series’ day merge does', async () => {
    const { LAB_GROUPS } = await import('./lab-units.js');
    const { substanceOf, unitConversion } = await import('../../../integrations/series/units.js');
    for (const g of LAB_GROUPS.filter((x) => x.convert && x.convert !== 'hba1c'))
      for (const code of g.codes) {
        expect(substanceOf(code), code).toBe(g.convert);
        expect(unitConversion('mmol/L', 'mg/dL', code)?.scale, code).toBeCloseTo(analyteFactorOf(g.convert!), 9);
      }
    expect(substanceOf('constructor')).toBeUndefined();
  });
});

/** mg/dL per mmol/L as labs print it. */
function analyteFactorOf(substance: string): number {
  return ({ glucose: 18.0156, cholesterol: 38.665, triglycerides: 88.57 } as Record<string, number>)[substance]!;
}
