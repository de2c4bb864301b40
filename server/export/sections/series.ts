/** Health series as one series/<type>.jsonl per type of day chunks. */
import type { Readable } from 'node:stream';
import { z } from 'zod';
import type { DayChunk } from '../../../integrations/series/day-chunk.js';
import type { SessionContext } from '../../services/keyring.js';
import type { SeriesService } from '../../services/series.service.js';
import { SERIES_ENTRY, seriesEntryName } from '../format.js';
import { readLines } from '../lines.js';
import { count, type ExportWriter, type ImportState, type PortabilitySection } from './section.js';

/** Months between two YYYY-MM-DD dates, as [first day, last day] pairs. */
function* months(first: string, last: string): Generator<[string, string]> {
  let y = Number(first.slice(0, 4));
  let m = Number(first.slice(5, 7));
  const endY = Number(last.slice(0, 4));
  const endM = Number(last.slice(5, 7));
  while (y < endY || (y === endY && m <= endM)) {
    const mm = String(m).padStart(2, '0');
    yield [`${y}-${mm}-01`, lastDay(`${y}-${mm}-01`)];
    m++;
    if (m > 12) {
      m = 1;
      y++;
    }
  }
}

export class SeriesSection implements PortabilitySection {
  readonly name = 'series';
  constructor(private readonly series: SeriesService) {}

  async count(session: SessionContext): Promise<number> {
    return (await this.series.spans(session)).reduce((a, s) => a + s.days, 0);
  }

  async export(session: SessionContext, out: ExportWriter): Promise<void> {
    const { series } = this;
    for (const span of await series.spans(session)) {
      await out.jsonl(
        seriesEntryName(span.type),
        (async function* () {
          // A month of chunks at a time: years of 5-second heart rate never sit in memory at once.
          for (const [from, to] of months(span.first, span.last)) {
            yield* await series.chunks(session, span.type, from, to);
          }
        })(),
      );
    }
  }

  accepts(name: string): boolean {
    return SERIES_ENTRY.test(name);
  }

  async import(name: string, body: Readable, state: ImportState): Promise<void> {
    let batch: DayChunk[] = [];
    const flush = async () => {
      if (batch.length) {
        // Days count as imported when they brought samples of their type this account lacked
        // (the store answers per type): a re-import of days already here counts none.
        const added = await this.series.store(state.session, batch);
        count(state, this.name, batch.filter((c) => (added[c.type] ?? 0) > 0).length);
      }
      batch = [];
    };
    for await (const chunk of readLines(body, name, DayChunkSchema, 'day of samples')) {
      batch.push(chunk as DayChunk);
      if (batch.length >= 31) await flush();
    }
    await flush();
  }
}

const lastDay = (monthStart: string) => {
  const d = new Date(`${monthStart}T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + 1, 0);
  return d.toISOString().slice(0, 10);
};

const DayChunkSchema = z.object({
  v: z.literal(1),
  type: z.string().min(1).max(200),
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  unit: z.string(),
  sources: z.array(z.string()),
  samples: z.array(z.tuple([z.number(), z.number(), z.number(), z.number().int()])),
  stats: z.object({ count: z.number(), min: z.number(), max: z.number(), mean: z.number(), sum: z.number() }),
});
