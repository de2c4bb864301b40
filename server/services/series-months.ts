/**
 * Monthly roll-ups of the daily stats (migration 0014, table series_years): one sealed row per
 * (type, year) holding that year's months, under a row key of the vault's series subkey, the
 * AAD naming the table, type and year, so a roll-up can be neither read without the vault key
 * nor passed off as another year's, type's or user's.
 */
import { openRecord, recordAad, sealRecord } from '../../crypto/envelope.js';
import { deriveRowKey } from '../../crypto/keys.js';

const TABLE = 'series_years';

export interface MonthStats {
  unit: string;
  days: number;
  count: number;
  min: number;
  max: number;
  mean: number;
  sum: number;
}

/** Months ("YYYY-MM-01") of one year that have data. */
export type YearRollup = Record<string, MonthStats>;

const key = (seriesKey: Uint8Array, type: string, year: number) => deriveRowKey(seriesKey, `${type}|${year}|rollup`);
const aad = (userId: string, type: string, year: number) => recordAad({ userId, table: TABLE, rowId: `${type}/${year}`, version: 1 });

export function sealYear(seriesKey: Uint8Array, userId: string, type: string, year: number, months: YearRollup): Buffer {
  return sealRecord(key(seriesKey, type, year), Buffer.from(JSON.stringify(months)), aad(userId, type, year));
}

export function openYear(seriesKey: Uint8Array, userId: string, type: string, year: number, sealed: Uint8Array): YearRollup {
  return JSON.parse(openRecord(key(seriesKey, type, year), sealed, aad(userId, type, year)).toString('utf8')) as YearRollup;
}
