import { describe, expect, it } from 'vitest';
import type { SummaryModel } from './model.js';
import { renderSummaryPdf } from './pdf.js';
import { pdfText } from '../../test-support/server/pdf.js';

const entry = (name: string, detail?: string) => ({ key: name, name, date: '2024-03-01', group: 'active', sources: [], ...(detail ? { detail } : {}) });

describe('patient summary PDF', () => {
  it('prints names and terms in the scripts patients have, and "?" only for what the font lacks', async () => {
    const model: SummaryModel = {
      generatedAt: '2026-12-06T10:00:00.000Z',
      sections: ['problems', 'medications'],
      patient: { name: 'Łukasz Żółkiewski-Nguyễn', birthDate: '1980-02-29', gender: 'male' },
      problems: [entry('Гипертоническая болезнь'), entry('Διαβήτης τύπου 2', 'HbA1c 7,1 %'), entry('高血压'), entry('Asthma\u0000 with\ttab\u200b')],
      medications: [entry('Ибупрофен 400 мг', 'SpO₂ ≥ 95 %, 37 °C – 38 °C')],
    };
    const bytes = await renderSummaryPdf(model);
    const text = (await pdfText(bytes)).normalize('NFC');
    for (const s of [
      'Łukasz Żółkiewski-Nguyễn',
      'Гипертоническая болезнь',
      'Διαβήτης τύπου 2',
      'Ибупрофен 400 мг',
      'SpO₂ ≥ 95 %, 37 °C – 38 °C',
      'Asthma with tab',
    ]) {
      expect(text).toContain(s);
    }
    // DejaVu Sans has no CJK: each character prints as "?", never as an invisible box.
    expect(text).toContain('???');
    // Subsets of the glyphs used, not two whole fonts (~1.4 MB).
    expect(bytes.length).toBeLessThan(120_000);
  });

  it('says which year an empty vital-signs section covered when no start was chosen', async () => {
    const base: SummaryModel = { generatedAt: '2026-12-06T10:00:00.000Z', sections: ['vitals'], vitals: [] };
    const text = (await pdfText(await renderSummaryPdf(base))).replace(/\s+/g, ' ');
    expect(text).toContain('No vital signs in the year up to 2026-12-06; choose a start date to include older ones.');
    const chosen = (await pdfText(await renderSummaryPdf({ ...base, from: '2020-01-01', to: '2020-12-31' }))).replace(/\s+/g, ' ');
    expect(chosen).toContain('No vital signs in this period.');
  });

  it('prints vital signs in the units a reader knows, not UCUM codes', async () => {
    const vital = (title: string, unit: string, value: number, loinc?: string) => ({
      title,
      label: title,
      code: title,
      ...(loinc ? { loinc } : {}),
      unit,
      latest: { date: '2026-03-01', value },
      mean: value,
      min: value,
      max: value,
      days: 1,
      from: '2026-03-01',
      to: '2026-03-01',
    });
    const model: SummaryModel = {
      generatedAt: '2026-12-06T10:00:00.000Z',
      sections: ['vitals'],
      vitals: [
        vital('Body temperature', 'Cel', 37.2),
        vital('Oral temperature', '[degF]', 99.1),
        vital('Body weight', '[lb_av]', 150),
        // Heart rate in UCUM's "/min" (Apple, FHIR, and Fitbit since its "count/min" became "/min") reads as beats.
        vital('Heart rate', '/min', 61, '8867-4'),
        vital('Respiratory rate', '/min', 14, '9279-1'),
      ],
    };
    const text = await pdfText(await renderSummaryPdf(model));
    expect(text).toContain('latest 61 bpm');
    expect(text).toContain('latest 14 /min');
    expect(text).toContain('latest 37.2 °C');
    expect(text).toContain('latest 99.1 °F');
    expect(text).toContain('latest 150 lb');
    expect(text).not.toMatch(/Cel|degF/);
  });

  it('prints right-to-left names in reading order', async () => {
    const model: SummaryModel = {
      generatedAt: '2026-12-06T10:00:00.000Z',
      sections: ['problems'],
      patient: { name: 'דוד כהן' },
      problems: [entry('محمد علي')],
    };
    const text = await pdfText(await renderSummaryPdf(model));
    expect(text).toContain('דוד כהן');
    expect(text).toContain('محمد علي');
  });
});
