import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blindQuery, blindToken, stem, termFrequencies, tokenize } from './blind-index.js';
import { randomKey } from './keys.js';

describe('tokenize', () => {
  it('normalises case, width, ligatures and diacritics', () => {
    expect(tokenize('MÉDICATION Médication médication')).toEqual(['medication', 'medication', 'medication']);
    expect(tokenize('ＡＢＣ ﬁle')).toEqual(['abc', 'fil']);
    expect(tokenize('Çà et là, naïve façade')).toEqual(['ca', 'et', 'la', 'naiv', 'facad']);
  });

  it('stems plurals and verb endings so related forms meet', () => {
    const same = (a: string, b: string) => expect(tokenize(a), `${a} ~ ${b}`).toEqual(tokenize(b));
    same('medications', 'medication');
    same('allergies', 'allergy');
    same('patches', 'patch');
    same('doses', 'dose');
    same('tested', 'test');
    same('testing', 'tests');
    same('running', 'run');
    same('diagnosed', 'diagnose');
    expect(tokenize('diagnosis')).toEqual(['diagnosis']);
    expect(tokenize('virus illness')).toEqual(['virus', 'illness']);
    expect(stem('sing')).toBe('sing'); // too short to strip
  });

  it('splits on non-letters/digits (Unicode aware), drops numbers, stop words and 1-character tokens', () => {
    expect(tokenize('Type 1 diabetes; HbA1c=7.2% (a/b)')).toEqual(['typ', 'diabet', 'hba1c']);
    expect(tokenize('the patient and the doctor')).toEqual(['patient', 'doctor']);
    expect(tokenize('no known allergies')).toEqual(['no', 'known', 'allergy']);
    expect(tokenize('Москва 東京 café-au-lait')).toEqual(['москва', '東京', 'caf', 'au', 'lait']);
    expect(tokenize('x y z')).toEqual([]);
    expect(tokenize('a'.repeat(64))).toHaveLength(1);
    expect(tokenize('a'.repeat(65))).toHaveLength(0);
    expect(tokenize('')).toEqual([]);
  });

  it('makes no token of a number, a measurement or a date, so equal values share no token', () => {
    expect(tokenize('Observation on 17 Oct 2019, 16:43: Hemoglobin A1c 9.1%')).toEqual(['observation', 'hemoglobin', 'a1c']);
    expect(tokenize('Steps on 2019-10-17 at 16:43 (local time): 10432 steps')).toEqual(['step', 'local', 'tim', 'step']);
    expect(tokenize('Lisinopril 10mg, 2nd dose; vitamin B12; covid19')).toEqual(['lisinopril', 'dos', 'vitamin', 'b12', 'covid19']);
    expect(tokenize('seen October 17, 2019 and again in Mar 2020')).toEqual(['seen', 'again']);
    // A month word that is not part of a written date stays a word.
    expect(tokenize('you may march')).toEqual(['may', 'march']);
    expect(tokenize('9.1 2019 120/80 98.6')).toEqual([]);
  });

  it('termFrequencies counts stemmed tokens', () => {
    const tf = termFrequencies('Allergy: allergies to penicillin. Penicillin allergy.');
    expect(tf.get('allergy')).toBe(3);
    expect(tf.get('penicillin')).toBe(2);
    expect(tf.size).toBe(2);
  });
});

describe('blindToken', () => {
  it('is HMAC-SHA256 truncated to 16 bytes, keyed and deterministic', () => {
    const k = randomKey();
    const t = blindToken(k, 'allergy');
    expect(t.length).toBe(16);
    expect(t.equals(createHmac('sha256', k).update('allergy').digest().subarray(0, 16))).toBe(true);
    expect(blindToken(k, 'allergy').equals(t)).toBe(true);
    expect(blindToken(randomKey(), 'allergy').equals(t)).toBe(false);
    expect(blindToken(k, 'allergies').equals(t)).toBe(false);
  });

  it('queries and documents match through the same pipeline', () => {
    const k = randomKey();
    const doc = new Set([...termFrequencies('Known allergies: penicillin').keys()].map((t) => blindToken(k, t).toString('hex')));
    const q = blindQuery(k, 'ALLERGY Penicillin penicillin');
    expect(q).toHaveLength(2);
    for (const b of q) expect(doc.has(b.toString('hex'))).toBe(true);
  });
});
