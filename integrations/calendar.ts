/** Days of each month in a common year (February gains a day in a leap year). */
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * True when the parts name a wall-clock time that exists. Date.UTC and Date.parse quietly turn
 * 31 February into 2 March and 24:61 into the next day, and a date that does not exist must not
 * reach a day of the series (nor PostgreSQL's `date`, which refuses it). Years stop at four
 * digits, as every export format writes them; below 1000 a zone shift could reach year 0, which
 * PostgreSQL's `date` has not either.
 */
export function isRealDateTime(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): boolean {
  if (!Number.isInteger(year) || year < 1000 || year > 9999 || !Number.isInteger(month) || month < 1 || month > 12) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
  return day >= 1 && day <= days && hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 && second <= 59;
}

/** True for a "YYYY-MM-DD" date that exists. */
export function isRealDate(date: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  return !!m && isRealDateTime(Number(m[1]), Number(m[2]), Number(m[3]));
}
