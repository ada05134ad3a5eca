import {
  CreateScheduleBody,
  rpcRequests,
  rpcServerNotifications,
  Schedule,
  ScheduleRun,
  ScheduleRunNotification,
  ScheduleRunsQuery,
  UpdateScheduleBody,
} from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';

const uuid = '3f1c2a4e-8b7d-4c1a-9e2f-0a1b2c3d4e5f';
const at = '2026-11-24T10:00:00.000Z';
const firstPath = (result: { error?: { issues: { path: PropertyKey[] }[] } }) => result.error?.issues[0]?.path.join('.');

describe('schedule bodies', () => {
  it('accepts a minimal schedule and fills the defaults', () => {
    expect(CreateScheduleBody.parse({ name: ' Nightly ', prompt: 'Run the tests', cron: '0 3 * * *' })).toEqual({
      name: 'Nightly',
      prompt: 'Run the tests',
      cron: '0 3 * * *',
      timeZone: 'UTC',
      agent: 'build',
      workspace: { kind: 'empty' },
      enabled: true,
    });
  });

  it('accepts seconds, nicknames, git workspaces and allow/deny policies', () => {
    const body = CreateScheduleBody.parse({
      name: 'Every two seconds',
      prompt: 'x',
      cron: '*/2 * * * * *',
      timeZone: 'Europe/Berlin',
      workspace: { kind: 'git', url: 'https://example.com/repo.git', ref: 'main' },
      policy: [{ tool: 'bash', pattern: 'npm test*', action: 'allow' }],
      ownerId: uuid,
    });
    expect(body.policy).toEqual([{ tool: 'bash', pattern: 'npm test*', action: 'allow' }]);
    expect(CreateScheduleBody.safeParse({ name: 'd', prompt: 'x', cron: '@daily' }).success).toBe(true);
  });

  it('names the field at fault', () => {
    const base = { name: 'n', prompt: 'p', cron: '0 3 * * *' };
    expect(firstPath(CreateScheduleBody.safeParse({ ...base, cron: '* * *' }))).toBe('cron');
    expect(firstPath(CreateScheduleBody.safeParse({ ...base, cron: '* * * * * * *' }))).toBe('cron');
    expect(firstPath(CreateScheduleBody.safeParse({ ...base, timeZone: 'Europe/Atlantis' }))).toBe('timeZone');
    expect(firstPath(CreateScheduleBody.safeParse({ ...base, name: '  ' }))).toBe('name');
    expect(firstPath(CreateScheduleBody.safeParse({ ...base, prompt: '' }))).toBe('prompt');
    expect(firstPath(CreateScheduleBody.safeParse({ ...base, ownerId: 'bob' }))).toBe('ownerId');
    expect(firstPath(CreateScheduleBody.safeParse({ ...base, policy: [{ tool: 'bash', action: 'ask' }] }))).toBe('policy.0.action');
    expect(firstPath(CreateScheduleBody.safeParse({ ...base, workspace: { kind: 'upload', uploadId: uuid } }))).toBe('workspace.kind');
    expect(firstPath(CreateScheduleBody.safeParse({ ...base, workspace: { kind: 'git', url: 'https://x', ref: 'a b' } }))).toBe(
      'workspace.ref',
    );
  });

  it('rejects unknown fields', () => {
    expect(CreateScheduleBody.safeParse({ name: 'n', prompt: 'p', cron: '0 3 * * *', runAsRoot: true }).success).toBe(false);
    expect(UpdateScheduleBody.safeParse({ owner: uuid }).success).toBe(false);
  });

  it('needs at least one change in an update, and lets nullable fields be cleared', () => {
    expect(UpdateScheduleBody.safeParse({}).success).toBe(false);
    expect(UpdateScheduleBody.parse({ enabled: false })).toEqual({ enabled: false });
    expect(UpdateScheduleBody.parse({ policy: null, model: null, teamId: null })).toEqual({ policy: null, model: null, teamId: null });
  });

  it('takes back only the cursor it handed out', () => {
    expect(ScheduleRunsQuery.parse({ limit: '10', cursor: `${at}~${uuid}` })).toEqual({ limit: 10, cursor: `${at}~${uuid}` });
    expect(ScheduleRunsQuery.safeParse({ cursor: "x' or 1=1" }).success).toBe(false);
    expect(ScheduleRunsQuery.safeParse({ limit: '0' }).success).toBe(false);
  });
});

describe('schedules and runs as sent', () => {
  const run = {
    id: uuid,
    scheduleId: uuid,
    scheduledFor: at,
    trigger: 'cron',
    status: 'failed',
    reason: 'Budget reached: $1.00 of $1.00 used this month (user budget). Ask an admin to raise it.',
    sessionId: null,
    startedAt: at,
    finishedAt: at,
  };

  it('round-trips a schedule with its last run', () => {
    const schedule = {
      id: uuid,
      name: 'Nightly',
      ownerId: uuid,
      teamId: null,
      agent: 'build',
      model: null,
      prompt: 'Run the tests',
      workspace: { kind: 'empty' },
      policy: null,
      cron: '0 3 * * *',
      timeZone: 'Europe/Berlin',
      enabled: true,
      nextRunAt: at,
      lastRun: run,
      createdAt: at,
      updatedAt: at,
    };
    expect(Schedule.parse(schedule)).toEqual(schedule);
    expect(ScheduleRun.safeParse({ ...run, status: 'exploded' }).success).toBe(false);
  });

  it('declares schedule/list and the schedule/run notification', () => {
    expect(rpcRequests['schedule/list'].params.safeParse({}).success).toBe(true);
    expect(rpcRequests['schedule/list'].params.safeParse({ all: true }).success).toBe(false);
    const notice = {
      scheduleId: uuid,
      scheduleName: 'Nightly',
      runId: uuid,
      sessionId: uuid,
      status: 'succeeded',
      reason: null,
      trigger: 'catch-up',
      scheduledFor: at,
      finishedAt: at,
    };
    expect(rpcServerNotifications['schedule/run'].parse(notice)).toEqual(notice);
    expect(ScheduleRunNotification.safeParse({ ...notice, status: 'running' }).success).toBe(false);
  });
});
