import { describe, expect, it } from 'vitest';
import { civilOf, localMinute, startOfDayIn } from './civil-date.js';

describe('a civil day as instants in a zone', () => {
  it('begins at the zone’s local midnight, across DST changes', () => {
    expect(startOfDayIn(civilOf('2026-11-11'), 'Asia/Tokyo').toISOString()).toBe('2026-11-10T15:00:00.000Z');
    expect(startOfDayIn(civilOf('2026-11-11'), 'UTC').toISOString()).toBe('2026-11-11T00:00:00.000Z');
    expect(startOfDayIn(civilOf('2026-11-11'), undefined).toISOString()).toBe('2026-11-11T00:00:00.000Z');
    // New York springs forward at 02:00 on 8 March 2026: the day begins at EST, the next at EDT.
    expect(startOfDayIn(civilOf('2026-03-08'), 'America/New_York').toISOString()).toBe('2026-03-08T05:00:00.000Z');
    expect(startOfDayIn(civilOf('2026-03-09'), 'America/New_York').toISOString()).toBe('2026-03-09T04:00:00.000Z');
    expect(startOfDayIn(civilOf('2026-10-25'), 'Europe/Berlin').toISOString()).toBe('2026-10-24T22:00:00.000Z');
    expect(startOfDayIn(civilOf('2026-10-26'), 'Europe/Berlin').toISOString()).toBe('2026-10-25T23:00:00.000Z');
    expect(startOfDayIn(civilOf('2026-06-01'), 'Pacific/Kiritimati').toISOString()).toBe('2026-05-31T10:00:00.000Z');
    // A zone the browser made up reads as UTC, as "today" does.
    expect(startOfDayIn(civilOf('2026-11-11'), 'Mars/Olympus').toISOString()).toBe('2026-11-11T00:00:00.000Z');
  });

  it('shows an instant as the zone’s wall clock', () => {
    expect(localMinute(new Date('2026-11-10T23:00:00Z'), 'Asia/Tokyo')).toBe('2026-11-11T08:00');
    expect(localMinute(new Date('2026-11-20T07:15:00Z'), 'Europe/Berlin')).toBe('2026-11-20T08:15');
    expect(localMinute(new Date('2026-11-20T07:15:00Z'), undefined)).toBe('2026-11-20T07:15');
  });
});
