import type {
  Schedule,
  SchedulePolicy,
  ScheduleRun,
  ScheduleRunStatus,
  ScheduleRunTrigger,
  ScheduleWorkspace,
} from '@switchboard/protocol';
import type { Queryable } from '../db/client.js';

export interface ScheduleRow {
  id: string;
  name: string;
  owner_id: string;
  team_id: string | null;
  agent: string;
  agent_id: string | null;
  model: string | null;
  prompt: string;
  workspace: ScheduleWorkspace;
  policy: SchedulePolicy | null;
  cron: string;
  time_zone: string;
  enabled: boolean;
  next_run_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface RunRow {
  id: string;
  schedule_id: string;
  scheduled_for: Date;
  trigger: ScheduleRunTrigger;
  status: ScheduleRunStatus;
  reason: string | null;
  session_id: string | null;
  runner: string | null;
  lease_until: Date | null;
  started_at: Date;
  finished_at: Date | null;
}

/** The columns a create or an update sets (the rest are ids and timestamps). */
export type ScheduleFields = Omit<ScheduleRow, 'id' | 'created_at' | 'updated_at'>;

export function toRun(row: RunRow): ScheduleRun {
  return {
    id: row.id,
    scheduleId: row.schedule_id,
    scheduledFor: row.scheduled_for.toISOString(),
    trigger: row.trigger,
    status: row.status,
    reason: row.reason,
    sessionId: row.session_id,
    startedAt: row.started_at.toISOString(),
    finishedAt: row.finished_at?.toISOString() ?? null,
  };
}

export function toSchedule(row: ScheduleRow, lastRun: RunRow | undefined): Schedule {
  return {
    id: row.id,
    name: row.name,
    ownerId: row.owner_id,
    teamId: row.team_id,
    agent: row.agent,
    model: row.model,
    prompt: row.prompt,
    workspace: row.workspace,
    policy: row.policy,
    cron: row.cron,
    timeZone: row.time_zone,
    enabled: row.enabled,
    nextRunAt: row.next_run_at?.toISOString() ?? null,
    lastRun: lastRun ? toRun(lastRun) : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export async function getSchedule(sql: Queryable, id: string): Promise<ScheduleRow | undefined> {
  const [row] = await sql<ScheduleRow[]>`select * from schedules where id = ${id}`;
  return row;
}

export function listSchedules(sql: Queryable, filter: { ownerId?: string | undefined; limit: number }): Promise<ScheduleRow[]> {
  return sql<ScheduleRow[]>`
    select * from schedules
    ${filter.ownerId ? sql`where owner_id = ${filter.ownerId}` : sql``}
    order by lower(name), id
    limit ${filter.limit}`;
}

/** The latest run of each schedule (by slot), keyed by schedule id. */
export async function lastRuns(sql: Queryable, scheduleIds: string[]): Promise<Map<string, RunRow>> {
  if (scheduleIds.length === 0) return new Map();
  const rows = await sql<RunRow[]>`
    select distinct on (schedule_id) * from schedule_runs
    where schedule_id = any(${scheduleIds}::uuid[])
    order by schedule_id, scheduled_for desc, id desc`;
  return new Map(rows.map((row) => [row.schedule_id, row]));
}

export async function insertSchedule(sql: Queryable, fields: ScheduleFields, createdBy: string): Promise<ScheduleRow> {
  const [row] = await sql<ScheduleRow[]>`
    insert into schedules ${sql({ ...fields, workspace: sql.json(fields.workspace), policy: fields.policy && sql.json(fields.policy), created_by: createdBy } as never)}
    returning *`;
  return row as ScheduleRow;
}

export async function updateSchedule(sql: Queryable, id: string, fields: ScheduleFields): Promise<ScheduleRow | undefined> {
  const values = { ...fields, workspace: sql.json(fields.workspace), policy: fields.policy && sql.json(fields.policy) };
  const [row] = await sql<ScheduleRow[]>`
    update schedules set ${sql(values as never)}, updated_at = now() where id = ${id} returning *`;
  return row;
}

export async function deleteSchedule(sql: Queryable, id: string): Promise<ScheduleRow | undefined> {
  const [row] = await sql<ScheduleRow[]>`delete from schedules where id = ${id} returning *`;
  return row;
}

/** Due schedules, locked; rows another control plane is claiming right now are passed over. */
export function lockDue(sql: Queryable, now: Date, limit: number): Promise<ScheduleRow[]> {
  return sql<ScheduleRow[]>`
    select * from schedules where enabled and next_run_at <= ${now}
    order by next_run_at limit ${limit}
    for update skip locked`;
}

/** Moves a schedule on from the slot it was due at; false when someone else already did. */
export async function advance(sql: Queryable, id: string, due: Date, next: Date | null): Promise<boolean> {
  const rows = await sql`
    update schedules set next_run_at = ${next}, enabled = ${next !== null} where id = ${id} and next_run_at = ${due} returning 1`;
  return rows.count === 1;
}

export async function earliestDue(sql: Queryable): Promise<Date | null> {
  const [row] = await sql<{ at: Date | null }[]>`select min(next_run_at) as at from schedules where enabled`;
  return row?.at ?? null;
}

export async function hasLiveRun(sql: Queryable, scheduleId: string, now: Date): Promise<boolean> {
  const rows = await sql`
    select 1 from schedule_runs where schedule_id = ${scheduleId} and status = 'running' and lease_until > ${now} limit 1`;
  return rows.count > 0;
}

/** Records a slot once: a second control plane inserting the same slot gets nothing back. */
export async function insertRun(
  sql: Queryable,
  run: {
    scheduleId: string;
    scheduledFor: Date;
    trigger: ScheduleRunTrigger;
    status: 'running' | 'skipped';
    reason: string | null;
    runner: string;
    leaseUntil: Date | null;
  },
): Promise<RunRow | undefined> {
  const [row] = await sql<RunRow[]>`
    insert into schedule_runs (schedule_id, scheduled_for, trigger, status, reason, runner, lease_until, finished_at)
    values (${run.scheduleId}, ${run.scheduledFor}, ${run.trigger}, ${run.status}, ${run.reason}, ${run.runner}, ${run.leaseUntil},
            ${run.status === 'skipped' ? new Date() : null})
    on conflict (schedule_id, scheduled_for) do nothing
    returning *`;
  return row;
}

/**
 * Ends a running run once; undefined when it already ended (or its schedule was deleted). A note
 * from the start (a catch-up, missed slots) is kept after the failure reason.
 */
export async function finishRun(
  sql: Queryable,
  id: string,
  status: 'succeeded' | 'failed',
  reason: string | null,
): Promise<RunRow | undefined> {
  const [row] = await sql<RunRow[]>`
    update schedule_runs set status = ${status}, reason = nullif(concat_ws(' ', ${reason}::text, reason), ''), finished_at = now(), lease_until = null
    where id = ${id} and status = 'running'
    returning *`;
  return row;
}

export async function getRun(sql: Queryable, id: string): Promise<RunRow | undefined> {
  const [row] = await sql<RunRow[]>`select * from schedule_runs where id = ${id}`;
  return row;
}

export async function setRunSession(sql: Queryable, id: string, sessionId: string): Promise<void> {
  await sql`update schedule_runs set session_id = ${sessionId} where id = ${id}`;
}

export async function renewLeases(sql: Queryable, ids: string[], until: Date): Promise<void> {
  if (ids.length === 0) return;
  await sql`update schedule_runs set lease_until = ${until} where id = any(${ids}::uuid[]) and status = 'running'`;
}

/**
 * Running runs nobody vouches for any more: their lease ran out, or (given `previousLife`, at
 * start) they were driven by this same control plane before it restarted.
 */
export function abandonedRuns(sql: Queryable, now: Date, previousLife: string | null, limit = 100): Promise<RunRow[]> {
  return sql<RunRow[]>`
    select * from schedule_runs
    where status = 'running' and (lease_until < ${now} ${previousLife ? sql`or runner = ${previousLife}` : sql``})
    limit ${limit}
    for update skip locked`;
}

export async function listRuns(
  sql: Queryable,
  scheduleId: string,
  page: { limit: number; before?: { at: Date; id: string } | undefined },
): Promise<RunRow[]> {
  return sql<RunRow[]>`
    select * from schedule_runs
    where schedule_id = ${scheduleId}
    ${page.before ? sql`and (scheduled_for, id) < (${page.before.at}, ${page.before.id})` : sql``}
    order by scheduled_for desc, id desc
    limit ${page.limit}`;
}
