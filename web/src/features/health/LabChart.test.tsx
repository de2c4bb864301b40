import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import LabChart from './LabChart';
import { withOffset } from './ManualEntryDialog';
import type { LabPoint } from './health-api';

const point = (date: string, value: number, flag?: LabPoint['flag'], unit = 'mg/dL'): LabPoint => ({
  date,
  value,
  unit,
  itemId: date,
  source: 'fhir',
  ...(flag ? { flag } : {}),
});

describe('<LabChart>', () => {
  it('draws the reference range as a band and marks out-of-range points', () => {
    render(
      <LabChart
        name="Glucose"
        unit="mg/dL"
        range={{ low: 70, high: 99 }}
        points={[point('2024-01-10', 92, 'normal'), point('2024-05-12', 115, 'high'), point('2024-09-30', 64, 'low')]}
      />,
    );
    const chart = screen.getByTestId('lab-chart');
    expect(chart.getAttribute('aria-label')).toBe(
      'Glucose in mg/dL: 3 results from 2024-01-10 to 2024-09-30, reference range 70–99 mg/dL, 2 outside the range.',
    );
    const band = screen.getByTestId('reference-band');
    const ys = screen.getAllByTestId(/point/).map((c) => Number(c.getAttribute('cy')));
    // The band spans 70..99: the normal point lies inside it, the high one above, the low one below.
    const top = Number(band.getAttribute('y'));
    const bottom = top + Number(band.getAttribute('height'));
    expect(ys[0]).toBeGreaterThan(top);
    expect(ys[0]).toBeLessThan(bottom);
    expect(ys[1]).toBeLessThan(top);
    expect(ys[2]).toBeGreaterThan(bottom);
    expect(screen.getAllByTestId('point-out-of-range')).toHaveLength(2);
  });

  it('leaves out points in a unit that did not convert, and draws no band without a range', () => {
    render(<LabChart name="Creatinine" unit="mg/dL" points={[point('2024-01-10', 1.1), point('2024-02-10', 97, undefined, 'umol/L')]} />);
    expect(screen.queryByTestId('reference-band')).toBeNull();
    expect(screen.getAllByTestId('point')).toHaveLength(1);
  });
});

describe('withOffset', () => {
  it('adds the browser offset of that moment to a datetime-local value', () => {
    const v = withOffset('2026-06-02T00:30');
    expect(v).toMatch(/^2026-06-02T00:30:00[+-]\d{2}:\d{2}$/);
    expect(new Date(v).getTime()).toBe(new Date('2026-06-02T00:30').getTime());
  });
});
