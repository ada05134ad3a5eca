import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { approvalReason } from '../../control-plane/src/schedules/run-policy.js';
import { agentName, defineAgent } from '../fixtures/agent-builders.js';
import { useAgentHarness } from '../fixtures/agents.js';
import { notices, type RunRow, SCHEDULE_ENV, scheduleHelpers, until } from '../fixtures/schedules.js';
import { lastUserText } from '../fixtures/turns.js';

const suite = useAgentHarness(SCHEDULE_ENV);
const { sql, runsOf, createSchedule, stop } = scheduleHelpers(suite);

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

    // The owner's own rules cannot open what the (built-in) policy asks about: only narrow it.
    const patched = await suite.h.request(owner.token, 'PATCH', `/api/v1/schedules/${schedule.id}`, {
      policy: [{ tool: 'bash', pattern: 'echo *', action: 'allow' }],
    });
    expect(patched.status).toBe(200);
    const self = await suite.h.request(owner.token, 'POST', `/api/v1/schedules/${schedule.id}/run`);
    const stillRefused = await until(async () =>
      (await runsOf(schedule.id)).find((run) => run.id === self.body.id && run.status !== 'running'),
    );
    expect(stillRefused).toMatchObject({ status: 'failed', reason: approvalReason('bash') });

    // An admin pre-approves it in the agent's policy: the run goes through.
    const agent = await defineAgent(suite.h, {
      name: agentName('nightly'),
      systemPrompt: 'You run at night.',
      toolPolicy: [
        { tool: '*', action: 'allow' },
        { tool: 'bash', action: 'ask' },
        { tool: 'bash', pattern: 'echo *', action: 'allow' },
      ],
    });
    expect((await suite.h.request(owner.token, 'PATCH', `/api/v1/schedules/${schedule.id}`, { agent: agent.name })).status).toBe(200);
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
