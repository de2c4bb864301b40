import { describe, expect, it } from 'vitest';
import { IsoDate, isRealDate, LocalDate } from '../../contract/index.js';
import { endOfDayIfDate, parseDate } from '../services/items.service.js';

describe('isRealDate', () => {
  it('takes the calendar days there are, leap days of leap years included', () => {
    for (const v of ['2024-02-29', '2000-02-29', '2023-02-28', '2024-04-30', '2024-12-31', '2024-01-01', '0004-02-29', '0001-01-01', '0050-06-01']) {
      expect(isRealDate(v), v).toBe(true);
    }
  });

  it('refuses days the month does not have, which Date would roll into the next month', () => {
    for (const v of ['2024-02-30', '2023-02-29', '1900-02-29', '2024-04-31', '2024-06-31', '2024-09-31', '2024-11-31', '2024-02-31', '0003-02-29']) {
      expect(isRealDate(v), v).toBe(false);
    }
  });

  it('checks the day as written in a date-time, whatever its offset', () => {
    for (const v of ['2024-02-29T10:00:00Z', '2024-02-29T23:30:00-05:00', '2024-02-29T00:30:00+14:00', '2024-02-29 10:00', '2024-02-29T10:00:00.123+0100']) {
      expect(isRealDate(v), v).toBe(true);
    }
    for (const v of ['2024-02-30T10:00:00Z', '2023-02-29T23:30:00-05:00', '2024-04-31 08:00', '2024-02-31T10:00:00.000+0100', '2024-02-30t10:00z']) {
      expect(isRealDate(v), v).toBe(false);
    }
  });

  it('takes years 1 to 9999 as written, and nothing Date would read as another year', () => {
    for (const v of ['0050-06-01T10:00:00Z', '0010-01-01', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z', '0099']) {
      expect(isRealDate(v), v).toBe(true);
    }
    // Date's legacy parser reads a space-separated year 50 as 1950; ISO's expanded years and year 0 (1 BC).
    for (const v of [
      '0050-06-01 10:00',
      '0099-01-01 00:00Z',
      '-000001-01-01T00:00:00Z',
      '+010000-01-01',
      '+002024-02-29',
      '0000-06-01',
      '0000',
      '0001-01-01T00:30:00+05:00',
    ]) {
      expect(isRealDate(v), v).toBe(false);
    }
  });

  it('keeps ISO years and months, and refuses what Date cannot read or is not ISO 8601', () => {
    expect(isRealDate('2024')).toBe(true);
    expect(isRealDate('2024-02')).toBe(true);
    for (const v of [
      '',
      'yesterday',
      '2024-13-01',
      '2024-01-32',
      '2024-00-10',
      '2024-01-00',
      '2024-02-29T25:00:00Z',
      'Feb 30 2024',
      '2024/02/30',
      '2024-2-30',
    ]) {
      expect(isRealDate(v), v).toBe(false);
    }
  });
});

describe('date schemas', () => {
  it('IsoDate and LocalDate refuse an impossible day with a message about it', () => {
    expect(IsoDate.safeParse('2024-02-29T10:00:00+01:00').success).toBe(true);
    expect(LocalDate.safeParse('2024-02-29').success).toBe(true);
    const iso = IsoDate.safeParse('2024-02-30T10:00:00Z');
    expect(iso.success).toBe(false);
    expect(iso.error?.issues[0]?.message).toMatch(/real/);
    const local = LocalDate.safeParse('2023-02-29');
    expect(local.success).toBe(false);
    expect(local.error?.issues[0]?.message).toBe('must be a real date');
    expect(LocalDate.safeParse('2024-02-29T00:00:00Z').success).toBe(false);
  });
});

describe('parseDate and endOfDayIfDate (behind the schemas)', () => {
  it('read real dates as before, leap days included', () => {
    expect(parseDate(null)).toBeNull();
    expect(parseDate(undefined)).toBeNull();
    expect(parseDate('2024-02-29')?.toISOString()).toBe('2024-02-29T00:00:00.000Z');
    expect(parseDate('2024-02-29T23:30:00-05:00')?.toISOString()).toBe('2024-03-01T04:30:00.000Z');
    expect(endOfDayIfDate('2024-02-29').toISOString()).toBe('2024-02-29T23:59:59.999Z');
    expect(endOfDayIfDate('2024-12-31').toISOString()).toBe('2024-12-31T23:59:59.999Z');
    expect(endOfDayIfDate('2024-02-29T10:00:00Z').toISOString()).toBe('2024-02-29T10:00:00.000Z');
  });
});
