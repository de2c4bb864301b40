/**
 * Data layer of the Google Health API v4 connector (the successor of the Fitbit Web API):
 * paged reads of `users/me/dataTypes/{type}/dataPoints`, back-off on 429, a cursor per data
 * type for incremental sync, and normalisation into vault samples and records.
 *
 * Shapes, from the v4 reference and its generated clients (googleapis.dev .NET
 * `Google.Apis.GoogleHealthAPI.v4`, deno `health:v4.ts`, pub.dev `health_v4`), as read in 2026:
 * - `ListDataPointsResponse { dataPoints?: DataPoint[]; nextPageToken?: string }`
 * - `DataPoint { name, dataSource?: { device?, application?, platform?, recordingMethod? }, <member> }`
 *   with one member per type: `heartRate`, `steps`, `sleep`, `weight`, `dailyRestingHeartRate`.
 * - `ObservationSampleTime { physicalTime (RFC 3339), utcOffset (Duration "3600s"), civilTime }`
 * - `ObservationTimeInterval { startTime, startUtcOffset, endTime, endUtcOffset, civilStartTime,
 *   civilEndTime }`; `CivilDateTime { date: {year, month, day}, time: {hours, minutes, ...} }`
 * - `heartRate.beatsPerMinute`, `steps.count`, `dailyRestingHeartRate.beatsPerMinute` are int64,
 *   so they arrive as JSON strings; `weight.weightGrams` is a double.
 *
 * Assumptions (not confirmed by a live response): the union member names are the camelCase of
 * the hyphenated data type ids; `sleep.summary.minutesAsleep` is int64 (string or number);
 * `sleep.stages[]` is `{type, startTime, endTime}`; `dataSource.device` has `displayName` and/or
 * `model`; the list filter fields are `<snake_type>.sample_time.physical_time`,
 * `<snake_type>.interval.start_time` and `daily_resting_heart_rate.date`. Parsing is tolerant of
 * each of these being absent.
 *
 * This module is the entry point: api-client.ts reads pages, normalize.ts turns data points into
 * samples and records, sync.ts walks every type from its cursor.
 */
export {
  type GoogleHealthDataType,
  GOOGLE_HEALTH_DATA_TYPES,
  GOOGLE_HEALTH_BASE_URL,
  type GoogleHealthErrorCode,
  GoogleHealthError,
  type ObservationSampleTime,
  type ObservationTimeInterval,
  type CivilDateTime,
  type GDate,
  type DataPoint,
  type ListDataPointsResponse,
  type GoogleHealthClientOptions,
  filterFor,
  parseRetryAfter,
  fetchDataPointsPage,
} from './api-client.js';
export { type NormalizeOptions, durationMinutes, sourceNameOf, normalizeDataPoint } from './normalize.js';
export { type GoogleHealthSink, type GoogleHealthCursors, type SyncOptions, type SyncTypeResult, syncDataType, syncGoogleHealth } from './sync.js';
