import { describe, expect, it } from 'vitest';
import { snippet } from './snippet.js';

describe('search snippet', () => {
  it('marks every matched word, folding case, accents and stems like the blind index', () => {
    expect(snippet('Walk', 'Walked to the Café with Anna; the cafe was closed.', 'walking cafe')).toBe(
      '**Walked** to the **Café** with Anna; the **cafe** was closed.',
    );
  });

  it('opens on the passage with the most matches and cuts long text at word boundaries', () => {
    const filler = 'lorem ipsum dolor sit amet '.repeat(40);
    const text = `${filler}glucose once here. ${filler}glucose and insulin and glucose again. ${filler}`;
    const s = snippet('Notes', text, 'glucose insulin', 120);
    expect(s).toMatch(/^…/);
    expect(s).toMatch(/…$/);
    expect(s).toContain('**glucose** and **insulin** and **glucose**');
    expect(s.replace(/\*\*/g, '').length).toBeLessThanOrEqual(122);
  });

  it('falls back to the title when only the title matched, and to the text start when nothing did', () => {
    expect(snippet('Blood pressure log', 'Morning readings were fine.', 'pressure')).toBe('Blood **pressure** log');
    expect(snippet('Title', 'Some plain words.', 'absent')).toBe('Some plain words.');
  });

  it("drops the text's own asterisks so only the marks remain", () => {
    expect(snippet('t', 'A **bold** claim about *sleep*', 'sleep')).toBe('A bold claim about **sleep**');
  });

  it('reads words as the tokenizer does, in any script and across astral characters, and folds every kind of whitespace', () => {
    expect(snippet('t', 'Ärztin:\tΚαρδιά\u00a0 och 𝒳-ray; naïve\r\n\nnaïve', 'καρδιά naïve')).toBe('Ärztin: **Καρδιά** och 𝒳-ray; **naïve** **naïve**');
    expect(snippet('t', 'co-operate, co operate', 'operate')).toBe('co-**operate**, co **operate**');
    // Combining marks belong to the word they follow (NFD "café").
    expect(snippet('t', 'Cafe\u0301 corner', 'café')).toBe('**Cafe\u0301** corner');
  });

  it('marks the query inside runs of Chinese, Japanese or Korean, and keeps a hit deep in spaceless text in the window', () => {
    expect(snippet('t', '患者有高血压和2型糖尿病。', '血压 糖尿病')).toBe('患者有高**血压**和2型**糖尿病**。');
    expect(snippet('t', '健康診断でコーヒーを控えるよう言われた', 'コーヒー')).toBe('健康診断で**コーヒー**を控えるよう言われた');
    const filler = '今天天气很好我们去公园散步了'.repeat(200);
    const long = snippet('t', `${filler}医生说血压偏高${filler}`, '血压', 80);
    expect(long).toContain('**血压**');
    expect(long.length).toBeLessThanOrEqual(80 + 6);
    // A space far from the cut is not where the cut goes: the window is still full.
    const spaced = snippet('t', `开头 ${filler}`, '公园', 60);
    expect(spaced.replace(/[*…]/g, '').length).toBeGreaterThan(40);
  });

  it('finds a match deep in a long document (page 137 of 250), marked, stems and case folded', () => {
    const page = (n: number) => `Discharge summary page ${n} of 250 ${'Line: the patient was observed and remained stable overnight. '.repeat(40)}`;
    const pages = Array.from({ length: 250 }, (_, i) => page(i + 1));
    pages[136] = pages[136]!.replace('remained stable', 'remained stable; MIDPAGEZORBLE seen');
    pages[249] = pages[249]!.replace('was observed', 'walked home');
    const text = pages.join('\f');
    expect(text.indexOf('MIDPAGEZORBLE')).toBeGreaterThan(300_000);
    const deep = snippet('text-250p', text, 'midpagezorble');
    expect(deep).toMatch(/^…/);
    expect(deep).toContain('stable; **MIDPAGEZORBLE** seen');
    expect(deep.replace(/[*…]/g, '').length).toBeLessThanOrEqual(202);
    expect(snippet('text-250p', text, 'walking')).toContain('patient **walked** home');
    // Nothing anywhere: the text's start, unmarked, as before.
    expect(snippet('text-250p', text, 'absentword')).toMatch(/^Discharge summary page 1 of 250 Line/);
  });
});
