import { Cron } from 'croner';
import { AppError } from '../errors.js';

export interface CronSpec {
  cron: string;
  timeZone: string;
}

/** A slot up to this late still counts as on time (a slow tick, a busy event loop). */
export const ON_TIME_MS = 60_000;

/** Parses without scheduling anything: croner only computes dates here, our ticker fires. */
function build(spec: CronSpec): Cron {
  return new Cron(spec.cron, { timezone: spec.timeZone, mode: '5-or-6-parts', paused: true });
}

const invalid = (path: 'cron' | 'timeZone', message: string) =>
  new AppError('BAD_REQUEST', `Invalid ${path}: ${message}`, { location: 'body', issues: [{ path, message }] });

/**
 * Checks an expression and its time zone, and that it fires at all and not more often than
 * `minIntervalMs`. Throws BAD_REQUEST naming the field.
 */
export function validateCron(spec: CronSpec, minIntervalMs: number, now: Date): void {
  let job: Cron;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: spec.timeZone });
  } catch {
    throw invalid('timeZone', 'Must be an IANA time zone such as UTC or Europe/Berlin');
  }
  try {
    job = build(spec);
  } catch (error) {
    throw invalid('cron', (error as Error).message.replace(/^CronPattern: /, ''));
  }
  const runs = job.nextRuns(8, now);
  if (runs.length === 0) throw invalid('cron', 'It never fires (no date matches it)');
  for (let index = 1; index < runs.length; index++) {
    const gap = (runs[index] as Date).getTime() - (runs[index - 1] as Date).getTime();
    if (gap < minIntervalMs) {
      throw invalid(
        'cron',
        `It fires every ${gap / 1000} s; the shortest interval allowed here is ${minIntervalMs / 1000} s (SWITCHBOARD_SCHEDULE_MIN_INTERVAL_S)`,
      );
    }
  }
}

/** The first slot strictly after `after`, or null when the expression never fires again. */
export function nextSlot(spec: CronSpec, after: Date): Date | null {
  return build(spec).nextRun(after);
}

/** The latest slot at or before `at`. */
export function latestSlot(spec: CronSpec, at: Date): Date | null {
  return build(spec).previousRuns(1, new Date(at.getTime() + 1))[0] ?? null;
}

export type SlotPlan =
  | { kind: 'fire'; slot: Date; trigger: 'cron' | 'catch-up'; note: string | null; next: Date | null }
  | { kind: 'missed'; slot: Date; reason: string; next: Date | null };

/**
 * The missed-run rule. A due schedule handles ONE slot per tick, the latest one at or before now
 * (earlier missed slots are dropped): up to a minute late it runs as usual; later but within the
 * catch-up window it runs once as a catch-up; older than that it is recorded as skipped. Either
 * way the next slot is the first one after now, so a schedule never fires twice to catch up.
 */
export function planSlot(input: { spec: CronSpec; due: Date; now: Date; catchUpMs: number }): SlotPlan {
  const { spec, due, now } = input;
  const latest = latestSlot(spec, now);
  const slot = latest && latest > due ? latest : due;
  const next = nextSlot(spec, now);
  const late = now.getTime() - slot.getTime();
  const when = formatSlot(slot, spec.timeZone);
  if (late <= ON_TIME_MS) {
    const note = slot > due ? `Slots from ${formatSlot(due, spec.timeZone)} on were missed while no control plane was running.` : null;
    return { kind: 'fire', slot, trigger: 'cron', note, next };
  }
  if (late <= input.catchUpMs) {
    const note = `Catch-up run: due at ${when} while no control plane was running; started ${duration(late)} late.`;
    return { kind: 'fire', slot, trigger: 'catch-up', note, next };
  }
  const reason = `Missed: due at ${when} while no control plane was running, more than ${duration(input.catchUpMs)} ago (the catch-up window), so it did not run.`;
  return { kind: 'missed', slot, reason, next };
}

/** `2026-11-24 03:00 Europe/Berlin` (seconds shown when not zero). */
export function formatSlot(at: Date, timeZone: string): string {
  const parts: Record<string, string> = {};
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  for (const part of format.formatToParts(at)) parts[part.type] = part.value;
  const seconds = parts.second && parts.second !== '00' ? `:${parts.second}` : '';
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}${seconds} ${timeZone}`;
}

/** `45 s`, `12 min`, `3 h 5 min`. */
export function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
}
