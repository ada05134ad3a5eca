import { describe, expect, it } from 'vitest';
import { AppError } from '../../../control-plane/src/errors.js';
import { duration, formatSlot, latestSlot, nextSlot, planSlot, validateCron } from '../../../control-plane/src/schedules/cron.js';

const at = (iso: string) => new Date(iso);
const berlin = (cron: string) => ({ cron, timeZone: 'Europe/Berlin' });
const HOUR = 3600_000;

function issuePath(run: () => void): string | undefined {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    const issues = ((error as AppError).details?.issues ?? []) as { path: string }[];
    return issues[0]?.path;
  }
  return undefined;
}

describe('next slot', () => {
  it('reads the expression in its time zone, seconds included', () => {
    expect(nextSlot(berlin('*/2 * * * * *'), at('2026-01-01T00:00:01.500Z'))).toEqual(at('2026-01-01T00:00:02.000Z'));
    // 09:00 in Berlin is 08:00 UTC in winter and 07:00 UTC in summer.
    expect(nextSlot(berlin('0 9 * * *'), at('2026-01-10T12:00:00Z'))).toEqual(at('2026-01-11T08:00:00Z'));
    expect(nextSlot(berlin('0 9 * * *'), at('2026-07-10T12:00:00Z'))).toEqual(at('2026-07-11T07:00:00Z'));
    expect(nextSlot({ cron: '0 9 * * 1-5', timeZone: 'America/New_York' }, at('2026-03-06T15:00:00Z'))).toEqual(at('2026-03-09T13:00:00Z'));
  });

  it('is strictly after the given instant', () => {
    expect(nextSlot(berlin('*/2 * * * * *'), at('2026-01-01T00:00:04.000Z'))).toEqual(at('2026-01-01T00:00:06.000Z'));
    expect(latestSlot(berlin('*/2 * * * * *'), at('2026-01-01T00:00:04.000Z'))).toEqual(at('2026-01-01T00:00:04.000Z'));
    expect(latestSlot(berlin('*/2 * * * * *'), at('2026-01-01T00:00:05.900Z'))).toEqual(at('2026-01-01T00:00:04.000Z'));
  });

  it('runs a fixed time that daylight saving skips once, right after the gap, and once when the hour repeats', () => {
    // 2026-03-29: Berlin jumps from 02:00 to 03:00; 02:30 does not exist that day.
    expect(nextSlot(berlin('30 2 * * *'), at('2026-03-28T12:00:00Z'))).toEqual(at('2026-03-29T01:00:00Z'));
    expect(nextSlot(berlin('30 2 * * *'), at('2026-03-29T01:00:00Z'))).toEqual(at('2026-03-30T00:30:00Z'));
    // 2026-10-25: 02:00–03:00 happens twice; a daily 02:30 runs on the first one only.
    expect(nextSlot(berlin('30 2 * * *'), at('2026-10-24T12:00:00Z'))).toEqual(at('2026-10-25T00:30:00Z'));
    expect(nextSlot(berlin('30 2 * * *'), at('2026-10-25T00:30:00Z'))).toEqual(at('2026-10-26T01:30:00Z'));
  });

  it('keeps hourly jobs hourly across the change', () => {
    const slots = [at('2026-03-29T00:00:00Z')];
    for (let i = 0; i < 3; i++) slots.push(nextSlot(berlin('30 * * * *'), slots.at(-1) as Date) as Date);
    expect(slots.slice(1)).toEqual([at('2026-03-29T00:30:00Z'), at('2026-03-29T01:30:00Z'), at('2026-03-29T02:30:00Z')]);
  });
});

describe('validation', () => {
  const now = at('2026-05-01T00:00:00Z');
  it('names the field at fault', () => {
    expect(issuePath(() => validateCron(berlin('61 * * * *'), 60_000, now))).toBe('cron');
    expect(issuePath(() => validateCron(berlin('* * *'), 60_000, now))).toBe('cron');
    expect(issuePath(() => validateCron(berlin('0 0 30 2 *'), 60_000, now))).toBe('cron');
    expect(issuePath(() => validateCron({ cron: '0 9 * * *', timeZone: 'Mars/Olympus' }, 60_000, now))).toBe('timeZone');
  });

  it('refuses expressions that fire more often than allowed', () => {
    expect(issuePath(() => validateCron(berlin('*/2 * * * * *'), 60_000, now))).toBe('cron');
    expect(issuePath(() => validateCron(berlin('*/2 * * * * *'), 1_000, now))).toBeUndefined();
    expect(issuePath(() => validateCron(berlin('0,30 9 * * *'), 60_000, now))).toBeUndefined();
    expect(issuePath(() => validateCron(berlin('@daily'), 60_000, now))).toBeUndefined();
  });
});

describe('the missed-run rule', () => {
  const daily = berlin('0 9 * * *');
  const nine = at('2026-05-04T07:00:00Z');
  const plan = (now: Date, due = nine, catchUpMs = HOUR) => planSlot({ spec: daily, due, now, catchUpMs });

  it('runs a slot on time when the tick is at most a minute late', () => {
    expect(plan(at('2026-05-04T07:00:00.020Z'))).toMatchObject({ kind: 'fire', slot: nine, trigger: 'cron', note: null });
    expect(plan(at('2026-05-04T07:00:59Z'))).toMatchObject({ kind: 'fire', trigger: 'cron' });
    expect(plan(at('2026-05-04T07:00:00.020Z')).next).toEqual(at('2026-05-05T07:00:00Z'));
  });

  it('catches up once, marked as such, within the window', () => {
    const late = plan(at('2026-05-04T07:40:00Z'));
    expect(late).toMatchObject({ kind: 'fire', slot: nine, trigger: 'catch-up' });
    expect(late.kind === 'fire' && late.note).toMatch(/^Catch-up run: due at 2026-05-04 09:00 Europe\/Berlin .* 40 min late\.$/);
    expect(late.next).toEqual(at('2026-05-05T07:00:00Z'));
  });

  it('skips a slot older than the window, with a reason, and moves on to the future', () => {
    const old = plan(at('2026-05-04T09:30:00Z'));
    expect(old).toMatchObject({ kind: 'missed', slot: nine, next: at('2026-05-05T07:00:00Z') });
    expect(old.kind === 'missed' && old.reason).toContain('more than 1 h ago (the catch-up window)');
    expect(plan(at('2026-05-04T07:05:00Z'), nine, 0).kind).toBe('missed');
  });

  it('handles only the latest of many missed slots, never one per missed slot', () => {
    // Down for three days: the slot considered is this morning's, and the next one is tomorrow's.
    const result = plan(at('2026-05-07T07:10:00Z'));
    expect(result).toMatchObject({ kind: 'fire', trigger: 'catch-up', slot: at('2026-05-07T07:00:00Z'), next: at('2026-05-08T07:00:00Z') });
    const seconds = planSlot({
      spec: berlin('*/2 * * * * *'),
      due: at('2026-05-04T07:00:00Z'),
      now: at('2026-05-04T07:00:07.100Z'),
      catchUpMs: HOUR,
    });
    expect(seconds).toMatchObject({ kind: 'fire', trigger: 'cron', slot: at('2026-05-04T07:00:06Z'), next: at('2026-05-04T07:00:08Z') });
    expect(seconds.kind === 'fire' && seconds.note).toMatch(/were missed/);
  });
});

describe('formatting', () => {
  it('shows local wall time with the zone, seconds only when set', () => {
    expect(formatSlot(at('2026-05-04T07:00:00Z'), 'Europe/Berlin')).toBe('2026-05-04 09:00 Europe/Berlin');
    expect(formatSlot(at('2026-05-04T07:00:04Z'), 'UTC')).toBe('2026-05-04 07:00:04 UTC');
    expect([duration(45_000), duration(12 * 60_000), duration(HOUR), duration(HOUR + 5 * 60_000)]).toEqual([
      '45 s',
      '12 min',
      '1 h',
      '1 h 5 min',
    ]);
  });
});
