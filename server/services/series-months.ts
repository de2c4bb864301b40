/**
 * Monthly roll-ups of the daily stats (migration 0014, table series_months): sealed under a row
 * key of the vault's series subkey for (type, month), the AAD naming the table, so a roll-up can
 * be neither read without the vault key nor passed off as another month's, type's or user's.
 */
import { openRecord, recordAad, sealRecord } from '../../crypto/envelope.js';
import { deriveRowKey } from '../../crypto/keys.js';

const TABLE = 'series_months';

export interface MonthStats {
  unit: string;
  days: number;
  count: number;
  min: number;
  max: number;
  mean: number;
  sum: number;
}

const key = (seriesKey: Uint8Array, type: string, month: string) => deriveRowKey(seriesKey, `${type}|${month}|month`);
const aad = (userId: string, type: string, month: string) => recordAad({ userId, table: TABLE, rowId: `${type}/${month}`, version: 1 });

export function sealMonth(seriesKey: Uint8Array, userId: string, type: string, month: string, stats: MonthStats): Buffer {
  return sealRecord(key(seriesKey, type, month), Buffer.from(JSON.stringify(stats)), aad(userId, type, month));
}

export function openMonth(seriesKey: Uint8Array, userId: string, type: string, month: string, sealed: Uint8Array): MonthStats {
  return JSON.parse(openRecord(key(seriesKey, type, month), sealed, aad(userId, type, month)).toString('utf8')) as MonthStats;
}
