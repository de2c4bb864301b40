/**
 * The calendar date a record's time has where the source wrote it. The vault stores instants
 * (UTC), so an immunization given at 23:21 −05:00 on 3 March is stored on 4 March in UTC; a
 * person, a doctor and a period "from 3 March to 3 March" mean the source's date. The series
 * keep that date from the start (QuantitySample.localDate); for records it is read back from the
 * resource: its date field for the same instant, as written.
 */
import type { Item } from '../items.service.js';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}/;

/** `YYYY-MM-DD` as the source wrote the item's time, else the UTC date; null when it has none. */
export function sourceDay(item: Pick<Item, 'occurredAt' | 'data'>): string | null {
  if (!item.occurredAt) return null;
  const at = Date.parse(item.occurredAt);
  const resource = item.data?.resource;
  if (resource && typeof resource === 'object' && Number.isFinite(at)) {
    for (const value of Object.values(resource as Record<string, unknown>)) {
      // A dateTime field (effectiveDateTime, onsetDateTime, occurrenceDateTime, recordedDate...)
      // or a Period's start.
      const s = typeof value === 'string' ? value : value && typeof value === 'object' ? (value as { start?: unknown }).start : undefined;
      if (typeof s === 'string' && ISO_DATE.test(s) && s.length > 10 && Date.parse(s) === at) return s.slice(0, 10);
    }
  }
  return item.occurredAt.slice(0, 10);
}
