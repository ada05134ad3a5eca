import type { BudgetPeriod } from '@switchboard/protocol';

interface LocalDate {
  year: number;
  month: number;
  day: number;
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function parts(instant: Date, timeZone: string): LocalDate & { hour: number; minute: number; second: number } {
  const values: Record<string, string> = {};
  for (const part of formatter(timeZone).formatToParts(instant)) values[part.type] = part.value;
  return {
    year: Number(values.year),
    month: Number(values.month),
    day: Number(values.day),
    hour: Number(values.hour),
    minute: Number(values.minute),
    second: Number(values.second),
    weekday: WEEKDAYS.indexOf(values.weekday ?? 'Sun'),
  };
}

/** The UTC instant at which the local wall-clock date (at midnight) begins in the time zone. */
function localMidnight(year: number, month: number, day: number, timeZone: string): Date {
  const wall = Date.UTC(year, month - 1, day);
  let guess = wall;
  // Two rounds settle the offset, including days on which daylight saving time changes.
  for (let round = 0; round < 2; round++) {
    const local = parts(new Date(guess), timeZone);
    const asUtc = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
    guess = wall - (asUtc - guess);
  }
  return new Date(guess);
}

/** Start of the calendar period containing `now`: local midnight, Monday, first of the month, or the epoch. */
export function periodStart(period: BudgetPeriod, now: Date, timeZone: string): Date {
  if (period === 'total') return new Date(0);
  const local = parts(now, timeZone);
  if (period === 'day') return localMidnight(local.year, local.month, local.day, timeZone);
  if (period === 'month') return localMidnight(local.year, local.month, 1, timeZone);
  const sinceMonday = (local.weekday + 6) % 7;
  const monday = new Date(Date.UTC(local.year, local.month - 1, local.day - sinceMonday));
  return localMidnight(monday.getUTCFullYear(), monday.getUTCMonth() + 1, monday.getUTCDate(), timeZone);
}

/** Start of the next period, or null for `total`. */
export function periodEnd(period: BudgetPeriod, start: Date, timeZone: string): Date | null {
  if (period === 'total') return null;
  const local = parts(new Date(start.getTime() + 12 * 3600_000), timeZone);
  if (period === 'day') return localMidnight(local.year, local.month, local.day + 1, timeZone);
  if (period === 'week') return localMidnight(local.year, local.month, local.day + 7, timeZone);
  return localMidnight(local.year, local.month + 1, 1, timeZone);
}
