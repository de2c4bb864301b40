import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QuantitySample, RecordInput } from '../types.js';
import { importFitbitArchive } from './import.js';
import { HK } from './normalize.js';
import { writeArchive } from '../../test-support/integrations/fitbit/archive-writer.js';
import { NAP_COPY, ZONE_ARCHIVE } from '../../test-support/integrations/fitbit/zone-archive.js';

let dir: string;
let archive: string;
let withNapCopy: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fitbit-zones-'));
  archive = await writeArchive(join(dir, 'takeout.zip'), ZONE_ARCHIVE);
  withNapCopy = await writeArchive(join(dir, 'nap-copy.tgz'), [...ZONE_ARCHIVE, NAP_COPY]);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * The day-chunk store in miniature: per (type, day), samples kept once per (start, duration,
 * value, source); a retraction removes exactly that sample. Batches apply in the order they come.
 */
class Store {
  readonly days = new Map<string, Map<string, QuantitySample>>();
  add(s: QuantitySample): boolean {
    const day = `${s.type}|${s.localDate}`;
    let m = this.days.get(day);
    if (!m) this.days.set(day, (m = new Map()));
    const k = key(s);
    if (m.has(k)) return false;
    m.set(k, s);
    return true;
  }
  remove(s: QuantitySample): void {
    this.days.get(`${s.type}|${s.localDate}`)?.delete(key(s));
  }
  /** Each type's days as count and sum, days without samples left out. */
  view(): Record<string, Record<string, { count: number; sum: number }>> {
    const out: Record<string, Record<string, { count: number; sum: number }>> = {};
    for (const [day, m] of [...this.days].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      if (m.size === 0) continue;
      const [type, date] = day.split('|') as [string, string];
      const sum = [...m.values()].reduce((n, s) => n + s.value, 0);
      (out[type] ??= {})[date] = { count: m.size, sum: Math.round(sum * 1000) / 1000 };
    }
    return out;
  }
}

const key = (s: QuantitySample) => `${s.startMs}|${s.endMs - s.startMs}|${s.value}|${s.sourceName}`;

/** Imports the archive into `store` in `timezone`, knowing the zones of the imports before it. */
async function importInto(store: Store, timezone: string | undefined, previousZones: string[], batchSize = 5_000, path = archive) {
  let added = 0;
  let retracted = 0;
  const res = await importFitbitArchive(
    path,
    {
      samples: (b) => {
        for (const s of b) if (store.add(s)) added++;
      },
      records: () => {},
      retract: (b) => {
        retracted += b.length;
        for (const s of b) store.remove(s);
      },
    },
    { timezone, previousZones, batchSize },
  );
  return { added, retracted, counts: res.counts };
}

const alone = async (timezone: string | undefined, path = archive) => {
  const s = new Store();
  await importInto(s, timezone, [], 5_000, path);
  return s.view();
};

describe('Fitbit import again in another zone', () => {
  it('replaces what the import without a zone stored instead of adding a shifted copy', async () => {
    const utc = await alone(undefined);
    const ny = await alone('America/New_York');
    const paris = await alone('Europe/Paris');
    // The archive is one whose days and instants depend on the zone, or this test proves nothing.
    for (const type of [HK.sleep, HK.bodyMass, HK.steps, HK.heartRate, HK.restingHeartRate]) {
      expect(utc[type], type).toBeDefined();
    }
    expect(ny[HK.steps]).not.toEqual(utc[HK.steps]);
    expect(ny[HK.heartRate]).not.toEqual(utc[HK.heartRate]);
    expect(paris[HK.steps]).not.toEqual(ny[HK.steps]);

    for (const batchSize of [5_000, 1]) {
      const store = new Store();
      await importInto(store, undefined, [], batchSize);
      expect(store.view()).toEqual(utc);
      const second = await importInto(store, 'America/New_York', ['UTC'], batchSize);
      expect(second.retracted).toBeGreaterThan(0);
      expect(store.view()).toEqual(ny);
      await importInto(store, 'Europe/Paris', ['America/New_York', 'UTC'], batchSize);
      expect(store.view()).toEqual(paris);
      // The same zone again adds and changes nothing.
      const again = await importInto(store, 'Europe/Paris', ['America/New_York', 'UTC'], batchSize);
      expect(again.added).toBe(0);
      expect(store.view()).toEqual(paris);
    }
  });

  it('takes back an earlier zone’s copy before it adds the same sample from another row', async () => {
    // In Paris the UserSleeps row gives the sample the New York import stored for the JSON's nap,
    // which the JSON's row takes back: read first, the retraction must be applied first.
    for (const batchSize of [5_000, 1]) {
      const store = new Store();
      await importInto(store, undefined, [], batchSize, withNapCopy);
      await importInto(store, 'America/New_York', ['UTC'], batchSize, withNapCopy);
      expect(store.view()).toEqual(await alone('America/New_York', withNapCopy));
      await importInto(store, 'Europe/Paris', ['America/New_York', 'UTC'], batchSize, withNapCopy);
      const paris = await alone('Europe/Paris', withNapCopy);
      expect(paris[HK.sleep]?.['2024-03-12']).toEqual({ count: 2, sum: 70 });
      expect(store.view()).toEqual(paris);
    }
  });

  it('counts only what it imports: retractions are not samples', async () => {
    const first = await importInto(new Store(), 'America/New_York', []);
    const store = new Store();
    await importInto(store, undefined, []);
    const second = await importInto(store, 'America/New_York', ['UTC', 'Not/AZone', 'America/New_York', ' UTC ']);
    expect(second.counts).toEqual(first.counts);
    expect(store.view()).toEqual(await alone('America/New_York'));
  });

  it('retracts nothing without earlier zones, or for a sink that cannot retract', async () => {
    const none = await importInto(new Store(), 'America/New_York', []);
    expect(none.retracted).toBe(0);
    const same = await importInto(new Store(), 'America/New_York', ['America/New_York']);
    expect(same.retracted).toBe(0);
    // No `retract` on the sink: the import runs as before.
    const samples: QuantitySample[] = [];
    await importFitbitArchive(
      archive,
      { samples: (b) => void samples.push(...b), records: () => {} },
      { timezone: 'America/New_York', previousZones: ['UTC'] },
    );
    expect(samples.length).toBe(none.added);
  });

  it('moves the sleep records with the zone: another zone is another version of each night', async () => {
    /** The items store in miniature: one record per external id, replaced by another version. */
    const stored = new Map<string, RecordInput>();
    const nights = async (timezone: string | undefined, into = new Map<string, RecordInput>()) => {
      await importFitbitArchive(
        archive,
        {
          samples: () => {},
          records: (b) => {
            for (const r of b) if (r.type === HK.sleep && into.get(r.externalId)?.externalVersion !== r.externalVersion) into.set(r.externalId, r);
          },
        },
        { timezone },
      );
      return [...into.values()].map((r) => [r.externalId, r.occurredAt, r.title]).sort();
    };
    const ny = await nights('America/New_York');
    expect(ny).not.toEqual(await nights(undefined));
    await nights(undefined, stored);
    expect(await nights('America/New_York', stored)).toEqual(ny);
    expect(await nights('Europe/Paris', stored)).toEqual(await nights('Europe/Paris'));
  });
});
