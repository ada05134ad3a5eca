import { hostname } from 'node:os';
import type { ScheduleRun } from '@switchboard/protocol';
import type { Actor } from '../audit/actions.js';
import type { AuditService } from '../audit/audit-service.js';
import type { AuthContext } from '../auth/auth-plugin.js';
import type { Queryable } from '../db/client.js';
import { AppError, conflict, notFound } from '../errors.js';
import type { Harness } from '../harness/harness.js';
import { planSlot } from './cron.js';
import { createRunDriver, type DriverDeps } from './run-driver.js';
import * as repo from './schedule-repository.js';

/** The ticker looks for due schedules at least this often, and wakes exactly at a nearer slot. */
const TICK_MS = 1000;
/** A running run is vouched for this long by the control plane driving it, renewed while it runs. */
const LEASE_MS = 60_000;
const RENEW_MS = 15_000;
const CLAIM_BATCH = 20;
const STILL_GOING = 'The previous run is still going.';

export interface RunnerDeps extends DriverDeps {
  audit: AuditService;
  harness: Harness | null;
  clock?: () => Date;
}

/**
 * Fires due schedules. Each slot is claimed in one transaction (the schedule row locked with SKIP
 * LOCKED, `next_run_at` moved on with a compare-and-set, the slot inserted under a unique key), so
 * with any number of control planes on one database each slot runs once. The run driver then runs
 * it as a normal session of the owner.
 */
export function createScheduleRunner(deps: RunnerDeps) {
  const { sql, log, config } = deps;
  const clock = deps.clock ?? (() => new Date());
  /** Stable across restarts of this control plane (one per data dir), so its own abandoned runs are found at once. */
  const runnerId = `${hostname()}:${config.dataDir}`;
  const driver = createRunDriver(deps);
  let stopped = true;
  let timer: NodeJS.Timeout | null = null;
  let ticking: Promise<void> = Promise.resolve();
  let lastRenew = 0;
  const lease = (now: Date) => new Date(now.getTime() + LEASE_MS);

  /** Ends runs whose control plane is gone (lease expired), or, at start, this one's runs from before a restart. */
  async function reap(now: Date, previousLife: string | null): Promise<void> {
    await sql.begin(async (tx) => {
      for (const row of await repo.abandonedRuns(tx, now, previousLife)) {
        if (driver.has(row.id)) continue;
        const reason =
          row.runner === runnerId
            ? 'The control plane restarted during this run.'
            : 'The control plane running it stopped before it finished.';
        const ended = await repo.finishRun(tx, row.id, 'failed', reason);
        const schedule = await repo.getSchedule(tx, row.schedule_id);
        if (ended && schedule) await deps.schedules.recordRunEnd(tx, schedule, ended);
      }
    });
  }

  /** Records a slot that does not run (missed, or its previous run still going), with its audit row and notification. */
  async function skip(tx: Queryable, schedule: repo.ScheduleRow, slot: Date, trigger: ScheduleRun['trigger'], reason: string) {
    const run = await repo.insertRun(tx, {
      scheduleId: schedule.id,
      scheduledFor: slot,
      trigger,
      status: 'skipped',
      reason,
      runner: runnerId,
      leaseUntil: null,
    });
    if (run) await deps.schedules.recordRunEnd(tx, schedule, run);
    return run;
  }

  /** One transaction: lock due schedules, move each on, and record its slot (running, or skipped). */
  async function claim(now: Date): Promise<{ schedule: repo.ScheduleRow; run: repo.RunRow }[]> {
    return sql.begin(async (tx) => {
      const claimed: { schedule: repo.ScheduleRow; run: repo.RunRow }[] = [];
      for (const schedule of await repo.lockDue(tx, now, CLAIM_BATCH)) {
        const due = schedule.next_run_at as Date;
        let plan: ReturnType<typeof planSlot>;
        try {
          plan = planSlot({
            spec: { cron: schedule.cron, timeZone: schedule.time_zone },
            due,
            now,
            catchUpMs: config.scheduleCatchUpS * 1000,
          });
        } catch (error) {
          log.error({ err: error, scheduleId: schedule.id }, 'a schedule cannot be computed any more; it is disabled');
          await repo.advance(tx, schedule.id, due, null);
          continue;
        }
        if (!(await repo.advance(tx, schedule.id, due, plan.next))) continue;
        if (plan.kind === 'missed') {
          await skip(tx, schedule, plan.slot, 'cron', plan.reason);
          continue;
        }
        if (await repo.hasLiveRun(tx, schedule.id, now)) {
          await skip(tx, schedule, plan.slot, plan.trigger, STILL_GOING);
          continue;
        }
        const run = await repo.insertRun(tx, {
          scheduleId: schedule.id,
          scheduledFor: plan.slot,
          trigger: plan.trigger,
          status: 'running',
          reason: plan.note,
          runner: runnerId,
          leaseUntil: lease(now),
        });
        if (run) claimed.push({ schedule, run });
      }
      return claimed;
    });
  }

  /** One pass; returns how long to sleep. Idle, it costs one indexed query (the earliest due slot). */
  async function tick(): Promise<number> {
    const now = clock();
    if (now.getTime() - lastRenew >= RENEW_MS) {
      lastRenew = now.getTime();
      await repo.renewLeases(sql, driver.runIds(), lease(now));
      await reap(now, null);
    }
    const earliest = await repo.earliestDue(sql);
    if (!earliest) return TICK_MS;
    const wait = earliest.getTime() - now.getTime();
    if (wait > 0) return Math.min(TICK_MS, wait + 5);
    const claimed = await claim(now);
    for (const { schedule, run } of claimed) void driver.start(schedule, run);
    // Nothing claimed although something is due: another control plane is claiming it right now.
    return claimed.length > 0 ? 10 : 200;
  }

  function arm(delay: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = null;
      ticking = tick()
        .catch((error: unknown) => {
          log.error({ err: error }, 'the scheduler tick failed');
          return TICK_MS;
        })
        .then(arm);
    }, delay);
    timer.unref();
  }

  return {
    runnerId,

    async start(): Promise<void> {
      if (!stopped) return;
      stopped = false;
      await reap(clock(), runnerId).catch((error: unknown) => log.error({ err: error }, 'could not close runs from before a restart'));
      arm(0);
    },

    /** Stops firing; runs still going here are recorded as failed (the agent runtime stops with us). */
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await ticking;
      await driver.stopAll('The control plane shut down during this run.');
    },

    /** `POST /schedules/:id/run`: the same rules as a cron slot, now; waits until the session is prompted (or the run refused). */
    async runNow(auth: AuthContext, actor: Actor, scheduleId: string): Promise<ScheduleRun> {
      const schedule = await deps.schedules.access(auth, scheduleId, 'write');
      if (!deps.harness)
        throw new AppError(
          'HARNESS_UNAVAILABLE',
          'No agent runtime runs on this control plane (SWITCHBOARD_HARNESS=off); it cannot run schedules.',
        );
      const now = clock();
      const run = await sql.begin(async (tx) => {
        const [locked] = await tx`select id from schedules where id = ${scheduleId} for update`;
        if (!locked) throw notFound('Schedule');
        await deps.audit.record(tx, actor, {
          action: 'schedule.trigger',
          target: { type: 'schedule', id: scheduleId },
          payload: { name: schedule.name },
        });
        if (await repo.hasLiveRun(tx, scheduleId, now)) return skip(tx, schedule, now, 'manual', STILL_GOING);
        const base = { scheduleId, scheduledFor: now, trigger: 'manual' as const, reason: null, runner: runnerId };
        return repo.insertRun(tx, { ...base, status: 'running', leaseUntil: lease(now) });
      });
      if (!run) throw conflict('A run of this schedule was recorded for this very moment. Try again.');
      if (run.status === 'running') await driver.start(schedule, run);
      return repo.toRun((await repo.getRun(sql, run.id)) ?? run);
    },

    activeRuns: () => driver.runIds().length,
  };
}

export type ScheduleRunner = ReturnType<typeof createScheduleRunner>;
