import { describe, expect, it } from 'vitest';
import { periodEnd, periodStart } from '../../../control-plane/src/budgets/periods.js';

const at = (iso: string) => new Date(iso);

describe('budget periods', () => {
  it('uses calendar boundaries in UTC', () => {
    const now = at('2026-11-24T15:30:00Z');
    expect(periodStart('day', now, 'UTC').toISOString()).toBe('2026-11-24T00:00:00.000Z');
    expect(periodStart('week', now, 'UTC').toISOString()).toBe('2026-11-23T00:00:00.000Z');
    expect(periodStart('month', now, 'UTC').toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(periodStart('total', now, 'UTC').getTime()).toBe(0);
    expect(periodEnd('month', periodStart('month', now, 'UTC'), 'UTC')?.toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(periodEnd('total', new Date(0), 'UTC')).toBeNull();
  });

  it('starts weeks on Monday, also across a month and a year', () => {
    expect(periodStart('week', at('2026-01-01T12:00:00Z'), 'UTC').toISOString()).toBe('2025-12-29T00:00:00.000Z');
    expect(periodStart('week', at('2026-11-29T23:59:59Z'), 'UTC').toISOString()).toBe('2026-11-23T00:00:00.000Z');
    expect(periodStart('week', at('2026-11-30T00:00:00Z'), 'UTC').toISOString()).toBe('2026-11-30T00:00:00.000Z');
  });

  it('follows the configured time zone, including daylight saving changes', () => {
    // 23:30 UTC on 31 October is already 1 November in Berlin (UTC+1 after the change).
    expect(periodStart('month', at('2026-10-31T23:30:00Z'), 'Europe/Berlin').toISOString()).toBe('2026-10-31T23:00:00.000Z');
    // The day DST ends in Berlin (25 October 2026) is 25 hours long.
    const day = periodStart('day', at('2026-10-25T12:00:00Z'), 'Europe/Berlin');
    expect(day.toISOString()).toBe('2026-10-24T22:00:00.000Z');
    expect(periodEnd('day', day, 'Europe/Berlin')?.toISOString()).toBe('2026-10-25T23:00:00.000Z');
    expect(periodStart('day', at('2026-11-24T03:00:00Z'), 'America/Los_Angeles').toISOString()).toBe('2026-11-23T08:00:00.000Z');
  });
});
