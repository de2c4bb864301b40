import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blindQuery, blindToken, cjkMatcher, stem, termFrequencies, tokenize, wordMatcher } from './blind-index.js';
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
    expect(tokenize('Москва 東京 café-au-lait')).toEqual(['москва', '東', '京', '東京', 'caf', 'au', 'lait']);
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

  it('reads a run of Han, kana or Hangul as characters and pairs of characters, a query as its pairs', () => {
    expect(tokenize('高血压')).toEqual(['高', '血', '压', '高血', '血压']);
    expect(tokenize('高血压', 'query')).toEqual(['高血', '血压']);
    // One character alone is a word too ("cancer"), in a query as in a document.
    expect(tokenize('癌', 'query')).toEqual(['癌']);
    expect(tokenize('胃癌')).toContain('癌');
    // Mixed runs: the digit-led part is dropped as before, Latin words stay words.
    expect(tokenize('2型糖尿病 HbA1c高い', 'query')).toEqual(['型糖', '糖尿', '尿病', 'hba1c', '高い']);
    // Katakana's long vowel mark and half-width kana (NFKC) belong to the run.
    expect(tokenize('ｺｰﾋｰ', 'query')).toEqual(['コー', 'ーヒ', 'ヒー']);
    expect(tokenize('혈압약', 'query')).toEqual(['혈압', '압약']);
    // A query's pairs are all among the document's tokens: "血压" finds "高血压".
    const doc = new Set(tokenize('患者有高血压和2型糖尿病，服用二甲双胍。'));
    for (const q of ['血压', '糖尿病', '二甲双胍', '高血压', '癌']) {
      expect(
        tokenize(q, 'query').every((t) => doc.has(t)),
        q,
      ).toBe(q !== '癌');
    }
  });

  it('tokenizes a very long unpunctuated run of Han characters without overflowing the stack', () => {
    const run = '胃癌手术血液检查'.repeat(60_000);
    const tokens = tokenize(run, 'document');
    expect(tokens.length).toBe(run.length * 2 - 1);
  });

  it('termFrequencies counts stemmed tokens', () => {
    const tf = termFrequencies('Allergy: allergies to penicillin. Penicillin allergy.');
    expect(tf.get('allergy')).toBe(3);
    expect(tf.get('penicillin')).toBe(2);
    expect(tf.size).toBe(2);
  });
});

describe('wordMatcher', () => {
  // Stems, endings stem() rewrites, other scripts, accents, compatibility forms, stop words and numbers.
  const bases = ['study', 'dose', 'run', 'patch', 'class', 'allergy', 'test', 'fill', 'diagnos', 'see', 'virus', 'taking', 'it', 'ex', 'a'];
  const endings = ['', 's', 'es', 'ies', 'ing', 'ed', 'e', 'y', 'sses', 'ches', 'd', 'ng'];
  const words = [
    ...bases.flatMap((b) => endings.flatMap((e) => [b + e, (b + e).toUpperCase(), b[0]!.toUpperCase() + b.slice(1) + e])),
    ...['Médication', 'naïve', 'façade', 'ﬁle', 'ＡＢＣ', 'KELVIN', 'İstanbul', 'Straße', 'доза', '服用', 'hba1c', '10mg', 'the', 'Oct', 'x'],
  ];
  const slow = (query: string, word: string) => {
    const t = tokenize(word);
    return t.length === 1 && new Set(tokenize(query)).has(t[0]!);
  };

  it('answers as tokenizing each word would, for every word against every one-word query', () => {
    const tokens = new Map(words.map((w) => [w, tokenize(w)]));
    const wrong: string[] = [];
    for (const query of words) {
      const matches = wordMatcher(query);
      const wanted = new Set(tokens.get(query));
      for (const word of words) {
        const t = tokens.get(word)!;
        if (matches(word) !== (t.length === 1 && wanted.has(t[0]!))) wrong.push(`${query} / ${word}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(words.filter(wordMatcher('studies'))).toContain('STUDY');
  });

  it("matches any of a query's words, and nothing for a query of stop words", () => {
    const matches = wordMatcher('Allergies DOSING naïve');
    expect(words.filter((w) => matches(w))).toEqual(words.filter((w) => slow('Allergies DOSING naïve', w)));
    expect(['allergy', 'Dosed', 'dose', 'NAIVE', 'naive'].map(matches)).toEqual([true, true, true, true, true]);
    expect(words.some(wordMatcher('the and of'))).toBe(false);
  });

  it("keeps stem()'s promise: a plain word's stem, less its last letter, begins the word", () => {
    for (const word of words.filter((w) => /^[a-z]+$/.test(w))) expect(word.startsWith(stem(word).slice(0, -1)), word).toBe(true);
  });
});

describe('cjkMatcher', () => {
  it('finds where a run of CJK text holds the query, merging overlapping pairs', () => {
    const m = cjkMatcher('血压 糖尿病');
    expect(m('患者有高血压和糖尿病')).toEqual([
      [4, 6],
      [7, 10],
    ]);
    expect(m('血')).toEqual([]);
    expect(cjkMatcher('癌')('胃癌手术')).toEqual([[1, 2]]);
    expect(cjkMatcher('hypertension')('高血压')).toEqual([]);
    // Offsets are the word's own, across astral characters and width folding.
    expect(cjkMatcher('コーヒー')('𠀋ｺｰﾋｰ')).toEqual([[2, 6]]);
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
