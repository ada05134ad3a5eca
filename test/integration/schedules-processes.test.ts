import { rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../control-plane/src/app.js';
import { loadConfig } from '../../control-plane/src/config.js';
import { useAgentHarness } from '../fixtures/agents.js';
import { quietLogger } from '../fixtures/database.js';
import { notices, SCHEDULE_ENV, scheduleHelpers, until } from '../fixtures/schedules.js';
import { makeTempDir } from '../fixtures/temp.js';

/** What scheduling guarantees across processes and restarts: one run per slot, and the missed-run rule. */
const suite = useAgentHarness(SCHEDULE_ENV);
const { sql, runsOf, createSchedule, stop } = scheduleHelpers(suite);

describe('two control planes on one database', () => {
  async function secondControlPlane(): Promise<{ app: FastifyInstance; close(): Promise<void> }> {
    const dataDir = await makeTempDir('second-cp');
    const config = loadConfig({
      ...SCHEDULE_ENV,
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_HARNESS: 'inline',
      SWITCHBOARD_DEFAULT_MODEL: 'sb-coder',
    });
    const db = suite.h.db.connectAgain(5);
    const app = await buildApp({ config, sql: db, logger: quietLogger() });
    await app.listen({ host: '127.0.0.1', port: 0 });
    await app.startAgents(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`);
    return {
      app,
      async close() {
        await app.close();
        await db.end({ timeout: 5 });
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  }

  it('fires each slot exactly once; the other process never starts a session for a claimed slot', async () => {
    const second = await secondControlPlane();
    try {
      const owner = await suite.h.createUser('member');
      const rpc = await suite.client(owner.token);
      const heard = notices(rpc);
      const schedule = await createSchedule(owner.token, { name: 'Shared database', cron: '*/2 * * * * *', timeZone: 'UTC' });
      await until(async () => (await runsOf(schedule.id)).length >= 6, 30_000, 'six slots');
      await stop(schedule.id);

      const runs = await runsOf(schedule.id);
      const slots = runs.map((run) => run.scheduled_for.getTime());
      expect(new Set(slots).size).toBe(runs.length);
      for (const slot of slots) expect(slot % 2000).toBe(0);
      const runners = new Set(runs.map((run) => run.runner));
      expect([...runners].every((id) => id === suite.h.app.scheduleRunner.runnerId || id === second.app.scheduleRunner.runnerId)).toBe(
        true,
      );

      const started = runs.filter((run) => run.session_id !== null);
      expect(started.length).toBeGreaterThan(0);
      expect(runs.filter((run) => run.status !== 'skipped').every((run) => run.session_id !== null)).toBe(true);
      const sessions = await sql()`select id from sessions where user_id = ${owner.id}`;
      expect(sessions.map((row) => row.id).sort()).toEqual(started.map((run) => run.session_id).sort());
      const [created] = await sql()`
        select count(*)::int as n from audit_events where action = 'session.create' and actor_id = ${owner.id}`;
      expect(created?.n).toBe(started.length);
      const [ended] = await sql()`
        select count(*)::int as n from audit_events where action = 'schedule.run' and target_id = ${schedule.id}`;
      expect(ended?.n).toBe(runs.length);

      // The owner's editor is connected to the first process and hears of every run, whichever process ran it.
      await until(async () => heard.length === runs.length, 5_000, 'a notification per run');
      expect(heard.map((notice) => notice.runId).sort()).toEqual(runs.map((run) => run.id).sort());

      const page1 = await suite.h.request(owner.token, 'GET', `/api/v1/schedules/${schedule.id}/runs?limit=4`);
      expect(page1.body.items).toHaveLength(4);
      const page2 = await suite.h.request(
        owner.token,
        'GET',
        `/api/v1/schedules/${schedule.id}/runs?limit=4&cursor=${encodeURIComponent(page1.body.nextCursor)}`,
      );
      const paged = [...page1.body.items, ...page2.body.items].map((run: { id: string }) => run.id);
      expect(paged).toEqual([...runs].reverse().map((run) => run.id));
      expect(page2.body.nextCursor).toBeNull();
    } finally {
      await second.close();
    }
  }, 120_000);
});

describe('missed runs', () => {
  /** A daily cron (UTC) whose latest slot was `agoMs` ago, and that slot. */
  function dailyAgo(agoMs: number) {
    const slot = new Date(Date.now() - agoMs);
    slot.setUTCSeconds(0, 0);
    return { cron: `${slot.getUTCMinutes()} ${slot.getUTCHours()} * * *`, slot };
  }

  it('catches up once within the window, skips older slots with a reason, and moves on to the next day', async () => {
    const owner = await suite.h.createUser('member');
    const recent = dailyAgo(10 * 60_000);
    const old = dailyAgo(2 * 3600_000);
    const a = await createSchedule(owner.token, { name: 'Ten minutes ago', cron: recent.cron, enabled: false });
    const b = await createSchedule(owner.token, { name: 'Two hours ago', cron: old.cron, enabled: false });
    // As if no control plane ran when these slots came: both are still due at them.
    await sql()`update schedules set enabled = true, next_run_at = ${recent.slot} where id = ${a.id}`;
    await sql()`update schedules set enabled = true, next_run_at = ${old.slot} where id = ${b.id}`;

    const caughtUp = await until(async () => (await runsOf(a.id)).find((run) => run.status !== 'running'));
    const missed = await until(async () => (await runsOf(b.id))[0]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await runsOf(a.id)).toHaveLength(1);
    expect(await runsOf(b.id)).toHaveLength(1);

    expect(caughtUp).toMatchObject({ trigger: 'catch-up', status: 'succeeded', scheduled_for: recent.slot });
    expect(caughtUp.reason).toMatch(/^Catch-up run: due at .* UTC while no control plane was running; started 1[01] min late\.$/);
    expect(caughtUp.session_id).not.toBeNull();
    expect(missed).toMatchObject({ trigger: 'cron', status: 'skipped', scheduled_for: old.slot, session_id: null });
    expect(missed.reason).toContain('more than 1 h ago (the catch-up window), so it did not run.');
    const next = await sql()`select id, next_run_at from schedules where id in (${a.id}, ${b.id})`;
    const day = 24 * 3600_000;
    expect(next.find((row) => row.id === a.id)?.next_run_at.getTime()).toBe(recent.slot.getTime() + day);
    expect(next.find((row) => row.id === b.id)?.next_run_at.getTime()).toBe(old.slot.getTime() + day);
    await stop(a.id);
  }, 30_000);

  it('closes a run left going by this control plane before a restart', async () => {
    const owner = await suite.h.createUser('member');
    const schedule = await createSchedule(owner.token, { name: 'Interrupted', cron: '0 3 * * *', enabled: false });
    const runner = suite.h.app.scheduleRunner;
    const [left] = await sql()`
      insert into schedule_runs (schedule_id, scheduled_for, trigger, status, runner, lease_until)
      values (${schedule.id}, now() - interval '1 minute', 'cron', 'running', ${runner.runnerId}, now() + interval '1 hour') returning id`;
    await runner.stop();
    await runner.start();
    const [run] = await runsOf(schedule.id);
    expect(run).toMatchObject({ id: left?.id, status: 'failed', reason: 'The control plane restarted during this run.' });
  });
});
