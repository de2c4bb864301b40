/**
 * A small Fitbit archive whose samples move with the time zone it is imported in: sleep (with
 * stages) and weight in naive local time, steps and heart rate near midnight UTC, a resting
 * heart rate stamped at local midnight, a weight CSV whose local day decides whether the classic
 * weight JSON of that day is a repeat, and a UserSleeps CSV row without an offset. For tests of
 * importing one archive again in another zone.
 */
import { SLEEP_LOG_SAMPLE, type TestEntry } from './archive-writer.js';

const json = (v: unknown) => JSON.stringify(v);

const NAP = {
  logId: 2,
  dateOfSleep: '2024-03-12',
  startTime: '2024-03-12T14:00:00.000',
  endTime: '2024-03-12T14:40:00.000',
  minutesAsleep: 35,
  minutesAwake: 5,
  type: 'classic',
  isMainSleep: false,
  levels: { summary: { asleep: { minutes: 35 }, restless: { minutes: 5 } } },
};

export const ZONE_ARCHIVE: TestEntry[] = [
  { name: 'Takeout/Fitbit/Global Export Data/sleep-2024-03-09.json', data: json([SLEEP_LOG_SAMPLE, NAP]) },
  {
    name: 'Takeout/Fitbit/Global Export Data/weight-2024-03-01.json',
    data: json([
      { logId: 11, weight: 165, date: '03/02/24', time: '22:30:00', source: 'Aria' },
      { logId: 12, weight: 166.2, date: '03/05/24', time: '07:10:00', source: 'API' },
      // Its day is in weight.csv too when that is read in New York (03:00Z is 23:00 on 19 March).
      { logId: 13, weight: 165.3, date: '03/19/24', time: '22:00:00', source: 'Aria' },
    ]),
  },
  {
    name: 'Takeout/Fitbit/Global Export Data/steps-2024-03-11.json',
    data: json([
      { dateTime: '03/11/24 02:00:00', value: '30' },
      { dateTime: '03/11/24 12:00:00', value: '100' },
      { dateTime: '03/11/24 23:30:00', value: '50' },
      { dateTime: '03/11/24 23:31:00', value: '0' },
    ]),
  },
  {
    name: 'Takeout/Fitbit/Global Export Data/heart_rate-2024-03-11.json',
    data: json([
      { dateTime: '03/11/24 12:00:00', value: { bpm: 61, confidence: 3 } },
      // Far outside the file's day: its local date follows the zone.
      { dateTime: '03/14/24 03:00:00', value: { bpm: 90, confidence: 3 } },
    ]),
  },
  {
    name: 'Takeout/Fitbit/Global Export Data/resting_heart_rate-2024-03-11.json',
    data: json([{ dateTime: '03/11/24 00:00:00', value: { date: '03/11/24', value: 57.5, error: 5 } }]),
  },
  {
    name: 'Takeout/Fitbit/Heart Rate/heart_rate_2024-03-12.csv',
    data: 'timestamp,beats per minute,data source\n2024-03-12T03:30:00Z,62,Charge 6\n2024-03-12T12:00:00Z,65,Charge 6\n2024-03-12T23:15:00Z,70,Charge 6\n',
  },
  { name: 'Takeout/Fitbit/Health Metrics/daily_resting_heart_rate.csv', data: 'timestamp,beats per minute,data source\n2024-03-12T00:00:00Z,58,Charge 6\n' },
  { name: 'Takeout/Fitbit/Health Metrics/weight.csv', data: 'timestamp,weight grams,data source\n2024-03-20T03:00:00Z,75000,Aria\n' },
  {
    name: 'Takeout/Fitbit/Sleep/UserSleeps_2024-03-01.csv',
    data: 'sleep_id,sleep_start,sleep_end,minutes_asleep\n3,2024-03-15T03:00:00Z,2024-03-15T09:00:00Z,300\n',
  },
];

/**
 * A UserSleeps CSV whose row, without an offset, is the JSON's nap when read in New York (14:00
 * there is 18:00Z), so skipped there and imported in any other zone: in Paris it is the very
 * sample the New York import stored for the JSON's nap, which the Paris import takes back.
 */
export const NAP_COPY: TestEntry = {
  name: 'Takeout/Fitbit/Sleep/UserSleeps_2024-03-02.csv',
  data: 'sleep_id,sleep_start,sleep_end,minutes_asleep\n2,2024-03-12T18:00:00Z,2024-03-12T18:40:00Z,35\n',
};

/** Every series type the archive gives. */
export const ZONE_ARCHIVE_TYPES = [
  'HKQuantityTypeIdentifierHeartRate',
  'HKQuantityTypeIdentifierStepCount',
  'HKQuantityTypeIdentifierRestingHeartRate',
  'HKQuantityTypeIdentifierBodyMass',
  'HKCategoryTypeIdentifierSleepAnalysis',
  'HKCategoryValueSleepAnalysisAsleepDeep',
  'HKCategoryValueSleepAnalysisAsleepCore',
  'HKCategoryValueSleepAnalysisAsleepREM',
  'HKCategoryValueSleepAnalysisAsleepUnspecified',
  'HKCategoryValueSleepAnalysisAwake',
] as const;
