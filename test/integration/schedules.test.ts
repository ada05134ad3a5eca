import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { ScheduleRunNotification } from '@switchboard/protocol';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../control-plane/src/app.js';
import { loadConfig } from '../../control-plane/src/config.js';
import { approvalReason } from '../../control-plane/src/schedules/run-policy.js';
import { useAgentHarness } from '../fixtures/agents.js';
import { quietLogger } from '../fixtures/database.js';
import type { RpcClient } from '../fixtures/rpc-client.js';
import { makeTempDir } from '../fixtures/temp.js';
import { lastUserText } from '../fixtures/turns.js';

/** Both control planes must open the same vault: the providers' keys are sealed under this key. */
const MASTER_KEY = 'a1'.repeat(32);
const ENV = { SWITCHBOARD_SCHEDULE_MIN_INTERVAL_S: '1', SWITCHBOARD_MASTER_KEY: MASTER_KEY, SWITCHBOARD_APPROVAL_TIMEOUT_S: '5' };
const suite = useAgentHarness(ENV);
const sql = () => suite.h.db.sql;

interface RunRow {
  id: string;
  schedule_id: string;
  scheduled_for: Date;
  trigger: string;
  status: string;
  reason: string | null;
  session_id: string | null;
  runner: string | null;
  started_at: Date;
  finished_at: Date | null;
}

async function until<T>(read: () => Promise<T | undefined | null | false>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const runsOf = (scheduleId: string) =>
  sql()<RunRow[]>`select * from schedule_runs where schedule_id = ${scheduleId} order by scheduled_for, id`;

async function createSchedule(token: string, body: Record<string, unknown>): Promise<{ id: string; nextRunAt: string | null }> {
  const response = await suite.h.request(token, 'POST', '/api/v1/schedules', { prompt: 'Say hello', ...body });
  if (response.status !== 201) throw new Error(`schedule create failed: ${JSON.stringify(response.body)}`);
  return response.body;
}

/** Disables a schedule and waits until none of its runs is still going, so nothing leaks into the next test. */
async function stop(scheduleId: string) {
  await sql()`update schedules set enabled = false, next_run_at = null where id = ${scheduleId}`;
  await until(async () => (await runsOf(scheduleId)).every((run) => run.status !== 'running'), 60_000, 'runs to end');
}

function notices(rpc: RpcClient): ScheduleRunNotification[] {
  const received: ScheduleRunNotification[] = [];
  rpc.connection.onNotification('schedule/run', (notice: ScheduleRunNotification) => {
    received.push(notice);
  });
  return received;
}

describe('a schedule fires on time', () => {
  it('runs as a normal session of the owner, audited, and tells the owner’s editor', async () => {
    const owner = await suite.h.createUser('member');
    const rpc = await suite.client(owner.token);
    const heard = notices(rpc);
    const schedule = await createSchedule(owner.token, {
      name: 'Every two seconds',
      prompt: 'Say hello on schedule',
      cron: '*/2 * * * * *',
      timeZone: 'Europe/Berlin',
    });
    const [first] = await until(async () => {
      const runs = await runsOf(schedule.id);
      return runs[0] && runs[0].status !== 'running' && runs;
    });
    await stop(schedule.id);
    const run = first as RunRow;

    expect(run).toMatchObject({ status: 'succeeded', trigger: 'cron', reason: null });
    expect(run.scheduled_for.toISOString()).toBe(schedule.nextRunAt);
    const lateMs = run.started_at.getTime() - run.scheduled_for.getTime();
    expect(lateMs).toBeGreaterThanOrEqual(0);
    expect(lateMs).toBeLessThan(1500);

    const [session] = await sql()`select * from sessions where id = ${run.session_id}`;
    expect(session).toMatchObject({ user_id: owner.id, status: 'idle' });
    expect(session?.title).toMatch(/^Every two seconds · \d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)? Europe\/Berlin$/);
    const events = await sql()`select event from session_events where session_id = ${run.session_id} order by seq`;
    const prompt = events.find((row) => row.event.type === 'prompt')?.event;
    expect(prompt).toMatchObject({ text: 'Say hello on schedule', userId: owner.id });
    expect(suite.h.fake.requests.some((request) => lastUserText(request.body).includes('Say hello on schedule'))).toBe(true);

    const audit = await sql()`
      select action, actor_type, actor_id, outcome, payload from audit_events
      where (target_type = 'schedule' and target_id = ${schedule.id}) or (target_type = 'session' and target_id = ${run.session_id})
      order by id`;
    expect(audit.find((row) => row.action === 'schedule.create')).toMatchObject({ actor_type: 'user', actor_id: owner.id });
    expect(audit.find((row) => row.action === 'session.create')).toMatchObject({ actor_type: 'system', actor_id: owner.id });
    expect(audit.find((row) => row.action === 'session.prompt')).toMatchObject({ actor_type: 'system', actor_id: owner.id });
    expect(audit.find((row) => row.action === 'schedule.run' && row.payload.runId === run.id)).toMatchObject({
      actor_type: 'system',
      actor_id: owner.id,
      outcome: 'ok',
      payload: { status: 'succeeded', sessionId: run.session_id, trigger: 'cron' },
    });

    const notice = await until(async () => heard.find((entry) => entry.runId === run.id), 5_000, 'the schedule/run notification');
    expect(notice).toEqual({
      scheduleId: schedule.id,
      scheduleName: 'Every two seconds',
      runId: run.id,
      sessionId: run.session_id,
      status: 'succeeded',
      reason: null,
      trigger: 'cron',
      scheduledFor: run.scheduled_for.toISOString(),
      finishedAt: expect.any(String),
    });
    const listed = await rpc.request('schedule/list', {});
    expect(listed.items).toHaveLength(1);
    expect(listed.items[0]).toMatchObject({ id: schedule.id, enabled: false, lastRun: { status: expect.any(String) } });
    expect((await rpc.request('session/list', {})).items.map((item: { id: string }) => item.id)).toContain(run.session_id);
  }, 60_000);
});

describe('two control planes on one database', () => {
  async function secondControlPlane(): Promise<{ app: FastifyInstance; close(): Promise<void> }> {
    const dataDir = await makeTempDir('second-cp');
    const config = loadConfig({
      ...ENV,
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

describe('budgets', () => {
  it('refuses a run when the owner’s budget is spent: no session, no model call, a clear reason', async () => {
    const owner = await suite.h.createUser('member');
    const rpc = await suite.client(owner.token);
    const heard = notices(rpc);
    const budget = await suite.h.request(suite.h.adminToken, 'PUT', `/api/v1/users/${owner.id}/budgets/month`, { limitMicros: 1_000_000 });
    expect(budget.status).toBe(200);
    await sql()`update budgets set spent_micros = limit_micros where user_id = ${owner.id}`;

    const schedule = await createSchedule(owner.token, { name: 'Broke', cron: '*/2 * * * * *' });
    const run = await until(async () => (await runsOf(schedule.id)).find((row) => row.status !== 'running'));
    await stop(schedule.id);

    const sentence = 'Budget reached: $1.00 of $1.00 used this month (user budget). Ask an admin to raise it.';
    expect(run).toMatchObject({ status: 'failed', reason: sentence, session_id: null });
    expect((await sql()`select id from sessions where user_id = ${owner.id}`).length).toBe(0);
    expect(suite.h.fake.requests).toHaveLength(0);
    const [audit] = await sql()`
      select outcome, actor_type, actor_id, payload from audit_events where action = 'schedule.run' and payload->>'runId' = ${run.id}`;
    expect(audit).toMatchObject({
      outcome: 'error',
      actor_type: 'system',
      actor_id: owner.id,
      payload: { status: 'failed', reason: sentence },
    });
    expect(await until(async () => heard.find((notice) => notice.runId === run.id))).toMatchObject({ status: 'failed', reason: sentence });
  }, 30_000);
});

describe('no overlap', () => {
  it('skips a slot while the previous run is still going', async () => {
    const owner = await suite.h.createUser('member');
    suite.h.fake.setDefault({ text: 'slow '.repeat(60), chunks: 60, chunkDelayMs: 80 });
    const schedule = await createSchedule(owner.token, { name: 'Slow', cron: '*/2 * * * * *' });
    await until(async () => (await runsOf(schedule.id)).some((run) => run.status === 'skipped'), 20_000, 'a skipped slot');
    await stop(schedule.id);

    const runs = await runsOf(schedule.id);
    const [first] = runs;
    expect(first).toMatchObject({ status: 'succeeded' });
    const skipped = runs.filter((run) => run.status === 'skipped');
    expect(skipped[0]).toMatchObject({ reason: 'The previous run is still going.', session_id: null });
    const overlapped = skipped.filter((run) => run.scheduled_for < (first?.finished_at as Date));
    expect(overlapped.length).toBeGreaterThan(0);
    expect((await sql()`select id from sessions where user_id = ${owner.id}`).length).toBe(runs.filter((run) => run.session_id).length);
  }, 60_000);
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

describe('approvals in scheduled runs', () => {
  it('refuses a tool that would ask, without hanging, and says how to allow it; a pre-approved one runs', async () => {
    const owner = await suite.h.createUser('member');
    suite.h.fake.setDefault((request) => {
      const ran = (request.body.messages ?? []).some((message: { role: string }) => message.role === 'tool');
      if (ran) return { text: 'Done.' };
      return { toolCalls: [{ name: 'bash', arguments: { command: 'echo hi > ran.txt', description: 'write a file' } }] };
    });
    const schedule = await createSchedule(owner.token, { name: 'Needs bash', cron: '0 3 * * *', enabled: false });
    const started = Date.now();
    const now = await suite.h.request(owner.token, 'POST', `/api/v1/schedules/${schedule.id}/run`);
    expect(now.status).toBe(202);
    expect(now.body).toMatchObject({
      trigger: 'manual',
      status: expect.stringMatching(/^(running|failed)$/),
      sessionId: expect.any(String),
    });
    const refused = await until(async () => (await runsOf(schedule.id)).find((run) => run.status !== 'running'));
    expect(Date.now() - started).toBeLessThan(5000 + 10_000);
    expect(refused).toMatchObject({ status: 'failed', reason: approvalReason('bash') });
    const events = (await sql()`select event from session_events where session_id = ${refused.session_id} order by seq`).map(
      (row) => row.event,
    );
    expect(events.some((event) => event.type === 'permission.asked')).toBe(false);
    expect(events.find((event) => event.type === 'permission.replied')).toMatchObject({ tool: 'bash', reply: 'reject', by: 'policy' });
    const [dir] = await sql()`select workspace_dir from sessions where id = ${refused.session_id}`;
    expect(existsSync(path.join(dir?.workspace_dir, 'ran.txt'))).toBe(false);

    const patched = await suite.h.request(owner.token, 'PATCH', `/api/v1/schedules/${schedule.id}`, {
      policy: [{ tool: 'bash', pattern: 'echo *', action: 'allow' }],
    });
    expect(patched.status).toBe(200);
    const again = await suite.h.request(owner.token, 'POST', `/api/v1/schedules/${schedule.id}/run`);
    const allowed = await until(async () =>
      (await runsOf(schedule.id)).find((run) => run.id === again.body.id && run.status !== 'running'),
    );
    expect(allowed).toMatchObject({ status: 'succeeded', reason: null });
    const [dir2] = await sql()`select workspace_dir from sessions where id = ${allowed.session_id}`;
    expect(existsSync(path.join(dir2?.workspace_dir, 'ran.txt'))).toBe(true);
  }, 60_000);
});

describe('validation and access', () => {
  const base = { name: 'Valid', prompt: 'p', cron: '0 3 * * *' };

  it('names the bad field, and keeps members to their own schedules and https workspaces', async () => {
    const member = await suite.h.createUser('member');
    const other = await suite.h.createUser('member');
    const viewer = await suite.h.createUser('viewer');
    const post = (token: string, body: Record<string, unknown>) => suite.h.request(token, 'POST', '/api/v1/schedules', body);

    const badCron = await post(member.token, { ...base, cron: '61 * * * *' });
    expect(badCron.status).toBe(400);
    expect(badCron.body.error.details.issues[0].path).toBe('cron');
    const badZone = await post(member.token, { ...base, timeZone: 'Europe/Atlantis' });
    expect(badZone.status).toBe(400);
    expect(badZone.body.error.details.issues[0].path).toBe('timeZone');
    const ask = await post(member.token, { ...base, policy: [{ tool: 'bash', action: 'ask' }] });
    expect(ask.body.error.details.issues[0].path).toBe('policy.0.action');
    const unknownAgent = await post(member.token, { ...base, agent: 'no-such-agent' });
    expect(unknownAgent.status).toBe(400);

    expect((await post(member.token, { ...base, ownerId: other.id })).status).toBe(403);
    expect((await post(member.token, { ...base, workspace: { kind: 'git', url: '/srv/repos/secret' } })).status).toBe(403);
    const ftp = await post(member.token, { ...base, workspace: { kind: 'git', url: 'ftp://example.com/x.git' } });
    expect(ftp.body.error.details.issues[0].path).toBe('workspace.url');
    expect((await post(viewer.token, base)).status).toBe(403);

    const mine = await post(member.token, base);
    expect(mine.status).toBe(201);
    expect((await post(member.token, { ...base, name: 'VALID' })).status).toBe(409);
    expect((await suite.h.request(other.token, 'GET', `/api/v1/schedules/${mine.body.id}`)).status).toBe(404);
    expect((await suite.h.request(other.token, 'POST', `/api/v1/schedules/${mine.body.id}/run`)).status).toBe(404);
    expect((await suite.h.request(other.token, 'GET', '/api/v1/schedules')).body.items).toEqual([]);
    expect((await suite.h.request(other.token, 'GET', `/api/v1/schedules?ownerId=${member.id}`)).status).toBe(403);
    expect((await suite.h.request(viewer.token, 'GET', `/api/v1/schedules?ownerId=${member.id}`)).body.items).toHaveLength(1);
    expect((await suite.h.request(member.token, 'PATCH', `/api/v1/schedules/${mine.body.id}`, { ownerId: other.id })).status).toBe(403);

    const forMember = await post(suite.h.adminToken, { ...base, name: 'From the admin', ownerId: member.id });
    expect(forMember.status).toBe(201);
    expect(forMember.body.ownerId).toBe(member.id);
    const serverPath = await post(suite.h.adminToken, {
      ...base,
      name: 'Path',
      ownerId: member.id,
      workspace: { kind: 'git', url: '/srv/x' },
    });
    expect(serverPath.body.error.details.issues[0].path).toBe('workspace.url');
    expect((await post(suite.h.adminToken, { ...base, name: 'Admin path', workspace: { kind: 'git', url: '/srv/x' } })).status).toBe(201);

    const denied = await sql()`
      select outcome, actor_id from audit_events where action = 'schedule.create' and outcome = 'denied' and actor_id = ${member.id}`;
    expect(denied.length).toBeGreaterThanOrEqual(2);
    const removed = await suite.h.request(member.token, 'DELETE', `/api/v1/schedules/${mine.body.id}`);
    expect(removed.body).toEqual({ deleted: true });
    expect((await suite.h.request(member.token, 'GET', `/api/v1/schedules/${mine.body.id}`)).status).toBe(404);
  });
});
