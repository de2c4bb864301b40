import { describe, expect, it } from 'vitest';
import { METRICS, parseQuestion } from './question.js';
import { findMetric } from './health-metrics.js';

// Thursday 26 November 2026, 10:00 in London (GMT).
const NOW = new Date('2026-11-26T10:00:00Z');
const ZONE = 'Europe/London';

function range(text: string, now = NOW, zone: string | undefined = ZONE) {
  return parseQuestion(text, now, zone).range;
}

describe('parseQuestion: date phrases (now = Thu 2026-11-26, Europe/London)', () => {
  const cases: Array<[string, string, string]> = [
    ['what did I do today', '2026-11-26', '2026-11-26'],
    ['steps yesterday', '2026-11-25', '2026-11-25'],
    ['the day before yesterday', '2026-11-24', '2026-11-24'],
    ['how did I sleep last night', '2026-11-25', '2026-11-25'],
    ['blood pressure last week', '2026-11-16', '2026-11-22'],
    ['blood pressure the previous week', '2026-11-16', '2026-11-22'],
    ['steps this week', '2026-11-23', '2026-11-26'],
    ['weight last month', '2026-10-01', '2026-10-31'],
    ['heart rate this month', '2026-11-01', '2026-11-26'],
    ['labs last year', '2025-01-01', '2025-12-31'],
    ['labs this year', '2026-01-01', '2026-11-26'],
    ['my visits in 2023', '2023-01-01', '2023-12-31'],
    ['during 2019', '2019-01-01', '2019-12-31'],
    ['notes in October 2026', '2026-10-01', '2026-10-31'],
    ['October 2026 visits', '2026-10-01', '2026-10-31'],
    ['Oct. 2025', '2025-10-01', '2025-10-31'],
    ['in October', '2026-10-01', '2026-10-31'],
    ['in December', '2025-12-01', '2025-12-31'],
    ['last March', '2026-03-01', '2026-03-31'],
    ['since March', '2026-03-01', '2026-11-26'],
    ['since 2024', '2024-01-01', '2026-11-26'],
    ['since last month', '2026-10-01', '2026-11-26'],
    ['since 5 Oct 2026', '2026-10-05', '2026-11-26'],
    ['past 10 days', '2026-11-16', '2026-11-26'],
    ['the last 7 days', '2026-11-19', '2026-11-26'],
    ['last 2 weeks', '2026-11-12', '2026-11-26'],
    ['over the past two weeks', '2026-11-12', '2026-11-26'],
    ['the past week', '2026-11-19', '2026-11-26'],
    ['this past week', '2026-11-19', '2026-11-26'],
    ['past 6 months', '2026-05-26', '2026-11-26'],
    ['in the last 3 months', '2026-08-26', '2026-11-26'],
    ['last few days', '2026-11-23', '2026-11-26'],
    ['past 24 hours', '2026-11-25', '2026-11-26'],
    ['the past year', '2025-11-26', '2026-11-26'],
    ['past 2 years', '2024-11-26', '2026-11-26'],
    ['3 days ago', '2026-11-23', '2026-11-23'],
    ['two weeks ago', '2026-11-09', '2026-11-15'],
    ['a couple of months ago', '2026-09-01', '2026-09-30'],
    ['between March and May 2025', '2025-03-01', '2025-05-31'],
    ['between March 2024 and May 2025', '2024-03-01', '2025-05-31'],
    ['between March and May', '2026-03-01', '2026-05-31'],
    ['between November and February', '2025-11-01', '2026-02-28'],
    ['between 2023 and 2024', '2023-01-01', '2024-12-31'],
    ['from 2026-01-01 to 2026-02-01', '2026-01-01', '2026-02-01'],
    ['from 2026-02-01 to 2026-01-01', '2026-01-01', '2026-02-01'],
    ['from 5 Oct to 10 Nov 2026', '2026-10-05', '2026-11-10'],
    ['on 5 Oct 2026', '2026-10-05', '2026-10-05'],
    ['on October 5, 2026', '2026-10-05', '2026-10-05'],
    ['on the 5th of October 2025', '2025-10-05', '2025-10-05'],
    ['on Oct 5th', '2026-10-05', '2026-10-05'],
    ['on December 25', '2025-12-25', '2025-12-25'],
    ['2026-10-05', '2026-10-05', '2026-10-05'],
    ['readings for 2026-09', '2026-09-01', '2026-09-30'],
    ['glucose in 2024 and 2025', '2024-01-01', '2025-12-31'],
    ['March 2025 vs March 2026 weight', '2025-03-01', '2026-03-31'],
  ];
  it.each(cases)('%s -> %s..%s', (text, from, to) => {
    const r = range(text);
    expect(r).toEqual({ from, to });
  });

  it('"recently" and "lately" give a soft 30-day range', () => {
    expect(range('what has my weight been recently')).toEqual({ from: '2026-10-27', to: '2026-11-26', soft: true });
    expect(range('lately')).toEqual({ from: '2026-10-27', to: '2026-11-26', soft: true });
  });

  it('a hard range wins over a soft one', () => {
    expect(range('recently, in October 2026')).toEqual({ from: '2026-10-01', to: '2026-10-31' });
  });

  it('no date phrase: no range', () => {
    expect(range('what is my blood type')).toBeUndefined();
    expect(range('did I walk 2000 steps')).toBeUndefined();
    expect(range('I may have taken ibuprofen')).toBeUndefined();
  });

  it('impossible dates are ignored, not guessed', () => {
    expect(range('2026-02-30')).toBeUndefined();
    expect(range('on 29 February 2025')).toBeUndefined();
    expect(range('2026-13-01')).toBeUndefined();
  });
});

describe('parseQuestion: boundaries, leap years and zones', () => {
  const newYear = new Date('2026-01-01T00:30:00Z'); // Thursday

  it('last month / last week / yesterday across a year boundary', () => {
    expect(range('last month', newYear)).toEqual({ from: '2025-12-01', to: '2025-12-31' });
    expect(range('last week', newYear)).toEqual({ from: '2025-12-22', to: '2025-12-28' });
    expect(range('yesterday', newYear)).toEqual({ from: '2025-12-31', to: '2025-12-31' });
    expect(range('this year', newYear)).toEqual({ from: '2026-01-01', to: '2026-01-01' });
    expect(range('this week', newYear)).toEqual({ from: '2025-12-29', to: '2026-01-01' });
  });

  it('"since March" and "in March" asked in January mean last year\'s March', () => {
    const jan = new Date('2026-01-15T12:00:00Z');
    expect(range('since March', jan)).toEqual({ from: '2025-03-01', to: '2026-01-15' });
    expect(range('in March', jan)).toEqual({ from: '2025-03-01', to: '2025-03-31' });
    expect(range('this March', jan)).toEqual({ from: '2026-03-01', to: '2026-03-31' });
  });

  it('month arithmetic clamps to the end of shorter months, leap years included', () => {
    expect(range('the past month', new Date('2024-03-31T12:00:00Z'))).toEqual({ from: '2024-02-29', to: '2024-03-31' });
    expect(range('the past month', new Date('2025-03-31T12:00:00Z'))).toEqual({ from: '2025-02-28', to: '2025-03-31' });
    expect(range('past 2 years', new Date('2024-02-29T12:00:00Z'))).toEqual({ from: '2022-02-28', to: '2024-02-29' });
    expect(range('last month', new Date('2024-03-15T12:00:00Z'))).toEqual({ from: '2024-02-01', to: '2024-02-29' });
    expect(range('on 29 Feb 2024')).toEqual({ from: '2024-02-29', to: '2024-02-29' });
    expect(range('between January and February 2024')).toEqual({ from: '2024-01-01', to: '2024-02-29' });
  });

  it('a year-less 29 February resolves to the latest leap year', () => {
    expect(range('on 29 February')).toEqual({ from: '2024-02-29', to: '2024-02-29' });
  });

  it('"today" is the user\'s day, not the server\'s', () => {
    const late = new Date('2026-11-26T23:30:00Z');
    expect(range('today', late, 'Pacific/Auckland')).toEqual({ from: '2026-11-27', to: '2026-11-27' });
    expect(range('today', late, 'America/Los_Angeles')).toEqual({ from: '2026-11-26', to: '2026-11-26' });
    expect(range('today', late, 'Europe/London')).toEqual({ from: '2026-11-26', to: '2026-11-26' });
  });

  it('summer time: just before midnight UTC is already tomorrow in London', () => {
    const june = new Date('2026-06-30T23:30:00Z');
    expect(range('this month', june, 'Europe/London')).toEqual({ from: '2026-07-01', to: '2026-07-01' });
    expect(range('this month', june, 'UTC')).toEqual({ from: '2026-06-01', to: '2026-06-30' });
  });

  it('an unknown zone degrades to UTC; no zone means UTC', () => {
    const late = new Date('2026-11-26T23:30:00Z');
    expect(range('today', late, 'Not/AZone')).toEqual({ from: '2026-11-26', to: '2026-11-26' });
    expect(range('today', late, undefined)).toEqual({ from: '2026-11-26', to: '2026-11-26' });
  });

  it('rejects an invalid now', () => {
    expect(() => parseQuestion('today', new Date('nope'))).toThrow(TypeError);
  });
});

describe('parseQuestion: metrics', () => {
  const synonymCases = METRICS.flatMap((m) => m.synonyms.map((s) => [s, m.name] as const));
  it.each(synonymCases)('"%s" -> %s', (synonym, name) => {
    const p = parseQuestion(`show me my ${synonym.toUpperCase()} please`, NOW, ZONE);
    expect(p.metrics.map((m) => m.name)).toEqual([name]);
  });

  it('the longest phrase wins: resting heart rate is not also heart rate', () => {
    expect(parseQuestion('resting heart rate', NOW).metrics.map((m) => m.name)).toEqual(['resting-heart-rate']);
    expect(parseQuestion('hemoglobin A1c', NOW).metrics.map((m) => m.name)).toEqual(['hba1c']);
    expect(parseQuestion('LDL cholesterol', NOW).metrics.map((m) => m.name)).toEqual(['ldl']);
    expect(parseQuestion('body mass index', NOW).metrics.map((m) => m.name)).toEqual(['bmi']);
  });

  it('several metrics in one question', () => {
    const p = parseQuestion('compare my pulse, blood sugar and weight', NOW);
    expect(p.metrics.map((m) => m.name).sort()).toEqual(['glucose', 'heart-rate', 'weight']);
  });

  it('blood pressure carries the panel, systolic, diastolic and HealthKit codes', () => {
    const bp = parseQuestion('blood pressure', NOW).metrics[0]!;
    expect(bp.codes).toEqual(
      expect.arrayContaining([
        '85354-9',
        '8480-6',
        '8462-4',
        'HKQuantityTypeIdentifierBloodPressureSystolic',
        'HKQuantityTypeIdentifierBloodPressureDiastolic',
      ]),
    );
  });

  it('every LOINC code is well formed with a valid check digit', () => {
    const luhn = (digits: string) => {
      let sum = 0;
      [...digits].reverse().forEach((c, i) => {
        const d = Number(c);
        sum += i % 2 === 0 ? (d * 2 > 9 ? d * 2 - 9 : d * 2) : d;
      });
      return (10 - (sum % 10)) % 10;
    };
    for (const m of METRICS) {
      expect(m.codes.length).toBeGreaterThan(0);
      for (const code of m.codes) {
        if (code.startsWith('HK')) {
          // Sleep stage series are named by their category value (integrations/series/sleep-stages.ts).
          expect(code).toMatch(/^HK((Quantity|Category|Correlation)TypeIdentifier|CategoryValueSleepAnalysis)[A-Z]\w+$/);
          continue;
        }
        const match = /^(\d{1,6})-(\d)$/.exec(code);
        expect(match, code).not.toBeNull();
        expect(luhn(match![1]!), code).toBe(Number(match![2]));
      }
    }
  });

  it('names are unique and no synonym belongs to two metrics', () => {
    const names = METRICS.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    const synonyms = METRICS.flatMap((m) => m.synonyms);
    expect(new Set(synonyms).size).toBe(synonyms.length);
    expect(findMetric('Steps')?.cumulative).toBe(true);
    expect(findMetric('pulse')?.name).toBe('heart-rate');
  });
});

describe('parseQuestion: kinds', () => {
  const cases: Array<[string, string]> = [
    ['what medications am I on', 'medication'],
    ['my meds', 'medication'],
    ['list my prescriptions', 'medication'],
    ['which drugs', 'medication'],
    ['any allergies', 'allergy'],
    ['am I allergic to penicillin', 'allergy'],
    ['my conditions', 'condition'],
    ['previous diagnoses', 'condition'],
    ['health problems', 'condition'],
    ['immunizations', 'immunization'],
    ['vaccines', 'immunization'],
    ['flu shots', 'immunization'],
    ['vaccinations', 'immunization'],
    ['labs', 'laboratory'],
    ['lab results', 'laboratory'],
    ['recent tests', 'laboratory'],
    ['blood work', 'laboratory'],
    ['vitals', 'vital-signs'],
    ['procedures', 'procedure'],
    ['knee surgery', 'procedure'],
    ['visits', 'encounter'],
    ['appointments', 'encounter'],
    ['encounters', 'encounter'],
    ['documents', 'document'],
    ['my notes', 'note'],
  ];
  it.each(cases)('%s -> %s', (text, kind) => {
    expect(parseQuestion(text, NOW).kinds).toEqual([kind]);
  });

  it('"blood work" is laboratory, not a metric', () => {
    const p = parseQuestion('blood work and blood pressure', NOW);
    expect(p.kinds).toEqual(['laboratory']);
    expect(p.metrics.map((m) => m.name)).toEqual(['blood-pressure']);
  });
});

describe('parseQuestion: keywords and signals', () => {
  it('keeps content words, drops stop words, dates, metrics and kinds', () => {
    const p = parseQuestion('What did Dr. Patel say about my knee MRI last month?', NOW, ZONE);
    expect(p.keywords).toEqual(['dr', 'patel', 'knee', 'mri']);
    expect(p.range).toEqual({ from: '2026-10-01', to: '2026-10-31' });
  });

  it('drops metric and kind words but keeps the rest', () => {
    const p = parseQuestion('When was my last tetanus shot at Boots pharmacy?', NOW);
    expect(p.keywords).toEqual(['tetanus', 'boots', 'pharmacy']);
    expect(p.kinds).toEqual(['immunization']);
    expect(p.wantsLatest).toBe(true);
  });

  it('dedupes, strips possessives and keeps numbers and accents', () => {
    const p = parseQuestion("Anna's notes on COVID 19 — Anna's café visit in Zürich", NOW);
    expect(p.keywords).toEqual(['anna', 'covid', '19', 'café', 'zürich']);
  });

  it('latest signals', () => {
    expect(parseQuestion('what is my most recent weight', NOW).wantsLatest).toBe(true);
    expect(parseQuestion('my latest HbA1c', NOW).wantsLatest).toBe(true);
    expect(parseQuestion('current medications', NOW).wantsLatest).toBe(true);
    expect(parseQuestion('weight last month', NOW).wantsLatest).toBe(false);
  });

  it('trend signals', () => {
    expect(parseQuestion('is my resting heart rate improving', NOW).wantsTrend).toBe(true);
    expect(parseQuestion('how has my weight changed over time', NOW).wantsTrend).toBe(true);
    expect(parseQuestion('is my cholesterol going down', NOW).wantsTrend).toBe(true);
    expect(parseQuestion('show my weight trend', NOW).keywords).toEqual([]);
    expect(parseQuestion('show my weight trend', NOW).metricWords).toEqual(['weight']);
    expect(parseQuestion('What was my HbA1c and my blood pressure?', NOW).metricWords.sort()).toEqual(['blood pressure', 'hba1c']);
    expect(parseQuestion('my weight on 5 Oct 2026', NOW).wantsTrend).toBe(false);
  });

  it('an empty question parses to nothing', () => {
    expect(parseQuestion('   ', NOW)).toEqual({ keywords: [], metricWords: [], metrics: [], kinds: [], wantsLatest: false, wantsTrend: false });
  });
});
