import {
  type CreateScheduleBody,
  Id,
  type Schedule,
  type ScheduleListQuery,
  type ScheduleRunNotification,
  ScheduleRunNotification as ScheduleRunNotificationSchema,
  type ScheduleRunPage,
  type ScheduleRunsQuery,
  type UpdateScheduleBody,
  type User,
} from '@switchboard/protocol';
import type { z } from 'zod';
import type { AgentService } from '../agents/agent-service.js';
import type { Actor } from '../audit/actions.js';
import type { AuditService } from '../audit/audit-service.js';
import type { AuthContext } from '../auth/auth-plugin.js';
import type { Config } from '../config.js';
import type { Queryable, Sql } from '../db/client.js';
import { isUniqueViolation } from '../db/errors.js';
import { AppError, conflict, forbidden, notFound } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ProviderService } from '../providers/provider-service.js';
import { isTeamMember } from '../sessions/session-repository.js';
import { getUser } from '../users/user-repository.js';
import { nextSlot, validateCron } from './cron.js';
import * as repo from './schedule-repository.js';

const CHANNEL = 'switchboard_schedule_run';
const Notice = ScheduleRunNotificationSchema.extend({ ownerId: Id });
type Notice = z.infer<typeof Notice>;
type NewSchedule = z.output<typeof CreateScheduleBody>;

export interface ScheduleDeps {
  sql: Sql;
  audit: AuditService;
  log: Logger;
  config: Config;
  providers: ProviderService;
  agents: AgentService;
  clock?: () => Date;
}

/** The system acting for a schedule's owner: no person and no token, but whose budget and rights it uses. */
export const scheduleActor = (row: repo.ScheduleRow): Actor => ({ type: 'system', userId: row.owner_id });

const badField = (path: string, message: string) => new AppError('BAD_REQUEST', message, { location: 'body', issues: [{ path, message }] });
const isServerPath = (url: string) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(url);

export function createScheduleService(deps: ScheduleDeps) {
  const { sql, audit, log, config } = deps;
  const clock = deps.clock ?? (() => new Date());
  const listeners = new Set<(notice: Notice) => void>();
  let listening: { unlisten(): Promise<void> } | null = null;

  /** Admins see and change every schedule; viewers read them all; members only their own (others' read as absent). */
  async function access(auth: AuthContext, id: string, mode: 'read' | 'write'): Promise<repo.ScheduleRow> {
    const row = await repo.getSchedule(sql, id);
    const { user } = auth;
    if (!row || (user.role === 'member' && row.owner_id !== user.id)) throw notFound('Schedule');
    if (mode === 'write' && user.role === 'viewer') throw forbidden('Viewers cannot change schedules.');
    return row;
  }

  async function withLastRuns(rows: repo.ScheduleRow[]): Promise<Schedule[]> {
    const last = await repo.lastRuns(
      sql,
      rows.map((row) => row.id),
    );
    return rows.map((row) => repo.toSchedule(row, last.get(row.id)));
  }

  /** Every rule a schedule must meet, checked on create and on each update, against its (new) owner. */
  async function check(auth: AuthContext, fields: repo.ScheduleFields): Promise<repo.ScheduleFields> {
    validateCron({ cron: fields.cron, timeZone: fields.time_zone }, config.scheduleMinIntervalS * 1000, clock());
    const owner: User | undefined = await getUser(sql, fields.owner_id);
    if (!owner) throw badField('ownerId', 'No such user.');
    if (owner.role === 'viewer' || owner.disabled)
      throw badField('ownerId', 'The owner must be an active member or admin: viewers and disabled users cannot run agents.');
    if (fields.workspace.kind === 'git') {
      if (isServerPath(fields.workspace.url)) {
        if (auth.user.role !== 'admin') throw forbidden('Only admins can seed a workspace from a path on the server. Use an https URL.');
        if (owner.role !== 'admin')
          throw badField('workspace.url', 'Runs clone as the owner, and only admins may clone a path on the server.');
      } else if (!/^https?:\/\//i.test(fields.workspace.url)) throw badField('workspace.url', 'Git URLs must use https (or http).');
    }
    if (fields.team_id && owner.role !== 'admin' && !(await isTeamMember(sql, fields.team_id, owner.id)))
      throw forbidden('A schedule can share its runs only with a team its owner belongs to.');
    if (fields.model && !(await deps.providers.resolve(fields.model)))
      throw badField('model', `The model "${fields.model}" is not offered here. See /api/v1/models.`);
    // The agent must exist for the owner; a defined one is pinned by id, so a rename does not break the schedule.
    const agent = await deps.agents.forSession({ user: owner, tokenId: '' }, fields.agent);
    const spec = { cron: fields.cron, timeZone: fields.time_zone };
    return {
      ...fields,
      agent_id: agent.defined?.id ?? null,
      next_run_at: fields.enabled ? nextSlot(spec, clock()) : null,
    };
  }

  const describe = (fields: repo.ScheduleFields) => ({
    name: fields.name,
    ownerId: fields.owner_id,
    teamId: fields.team_id,
    agent: fields.agent,
    model: fields.model,
    cron: fields.cron,
    timeZone: fields.time_zone,
    enabled: fields.enabled,
    workspace: fields.workspace.kind === 'git' ? { kind: 'git', url: fields.workspace.url } : { kind: 'empty' },
    policy: fields.policy,
    ...audit.promptPayload(fields.prompt),
  });

  const uniqueName = (name: string) => (error: unknown) => {
    if (isUniqueViolation(error)) throw conflict(`The owner already has a schedule named "${name}".`);
    throw error;
  };

  function deliver(payload: string) {
    const parsed = Notice.safeParse(JSON.parse(payload));
    if (!parsed.success) return log.warn({ issues: parsed.error.issues }, 'ignored a malformed schedule notification');
    for (const listener of listeners) {
      try {
        listener(parsed.data);
      } catch (error) {
        log.error({ err: error }, 'a schedule listener failed');
      }
    }
  }

  return {
    access,

    async create(auth: AuthContext, actor: Actor, body: NewSchedule): Promise<Schedule> {
      if (auth.user.role === 'viewer') throw forbidden('Viewers cannot schedule agents.');
      if (body.ownerId && body.ownerId !== auth.user.id && auth.user.role !== 'admin')
        throw forbidden('Only admins can create schedules for other people.');
      const fields = await check(auth, {
        name: body.name,
        owner_id: body.ownerId ?? auth.user.id,
        team_id: body.teamId ?? null,
        agent: body.agent,
        agent_id: null,
        model: body.model ?? null,
        prompt: body.prompt,
        workspace: body.workspace,
        policy: body.policy ?? null,
        cron: body.cron,
        time_zone: body.timeZone,
        enabled: body.enabled,
        next_run_at: null,
      });
      const row = await sql
        .begin(async (tx) => {
          const inserted = await repo.insertSchedule(tx, fields, auth.user.id);
          await audit.record(tx, actor, {
            action: 'schedule.create',
            target: { type: 'schedule', id: inserted.id },
            payload: describe(fields),
          });
          return inserted;
        })
        .catch(uniqueName(fields.name));
      return repo.toSchedule(row, undefined);
    },

    async list(auth: AuthContext, query: ScheduleListQuery): Promise<Schedule[]> {
      if (auth.user.role === 'member' && query.ownerId && query.ownerId !== auth.user.id)
        throw forbidden('Members can list only their own schedules.');
      const ownerId = auth.user.role === 'member' ? auth.user.id : query.ownerId;
      return withLastRuns(await repo.listSchedules(sql, { ownerId, limit: query.limit }));
    },

    /** The user's own schedules (what the extension shows). */
    async listOwn(userId: string): Promise<Schedule[]> {
      return withLastRuns(await repo.listSchedules(sql, { ownerId: userId, limit: 500 }));
    },

    async get(auth: AuthContext, id: string): Promise<Schedule> {
      const [schedule] = await withLastRuns([await access(auth, id, 'read')]);
      return schedule as Schedule;
    },

    async update(auth: AuthContext, actor: Actor, id: string, body: UpdateScheduleBody): Promise<Schedule> {
      const row = await access(auth, id, 'write');
      if (body.ownerId && body.ownerId !== row.owner_id && auth.user.role !== 'admin')
        throw forbidden('Only admins can give a schedule to someone else.');
      const timing = body.cron !== undefined || body.timeZone !== undefined || body.enabled !== undefined;
      const fields = await check(auth, {
        name: body.name ?? row.name,
        owner_id: body.ownerId ?? row.owner_id,
        team_id: body.teamId === undefined ? row.team_id : body.teamId,
        agent: body.agent ?? row.agent,
        agent_id: row.agent_id,
        model: body.model === undefined ? row.model : body.model,
        prompt: body.prompt ?? row.prompt,
        workspace: body.workspace ?? row.workspace,
        policy: body.policy === undefined ? row.policy : body.policy,
        cron: body.cron ?? row.cron,
        time_zone: body.timeZone ?? row.time_zone,
        enabled: body.enabled ?? row.enabled,
        next_run_at: row.next_run_at,
      });
      // A changed timing starts from now; otherwise the pending slot stays (an edit must not skip or add a run).
      if (!timing) fields.next_run_at = row.next_run_at;
      const updated = await sql
        .begin(async (tx) => {
          const saved = await repo.updateSchedule(tx, id, fields);
          if (!saved) throw notFound('Schedule');
          await audit.record(tx, actor, {
            action: 'schedule.update',
            target: { type: 'schedule', id },
            payload: { changed: Object.keys(body), ...describe(fields) },
          });
          return saved;
        })
        .catch(uniqueName(fields.name));
      const [schedule] = await withLastRuns([updated]);
      return schedule as Schedule;
    },

    async remove(auth: AuthContext, actor: Actor, id: string): Promise<void> {
      const row = await access(auth, id, 'write');
      await sql.begin(async (tx) => {
        if (!(await repo.deleteSchedule(tx, id))) throw notFound('Schedule');
        await audit.record(tx, actor, { action: 'schedule.delete', target: { type: 'schedule', id }, payload: { name: row.name } });
      });
    },

    async runs(auth: AuthContext, id: string, query: ScheduleRunsQuery): Promise<ScheduleRunPage> {
      await access(auth, id, 'read');
      const [at, runId] = query.cursor?.split('~') ?? [];
      const before = at && runId ? { at: new Date(at), id: runId } : undefined;
      const rows = await repo.listRuns(sql, id, { limit: query.limit + 1, before });
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      const nextCursor = rows.length > query.limit && last ? `${last.scheduled_for.toISOString()}~${last.id}` : null;
      return { items: page.map(repo.toRun), nextCursor };
    },

    /**
     * Inside the transaction that ends a run (or records a skipped slot): its audit row, and a
     * notification every control plane receives at commit, so the owner hears of it wherever
     * their editor is connected.
     */
    async recordRunEnd(tx: Queryable, schedule: repo.ScheduleRow, run: repo.RunRow): Promise<void> {
      const status = run.status === 'running' ? 'failed' : run.status;
      await audit.record(tx, scheduleActor(schedule), {
        action: 'schedule.run',
        target: { type: 'schedule', id: schedule.id },
        outcome: status === 'failed' ? 'error' : 'ok',
        payload: {
          runId: run.id,
          status,
          reason: run.reason,
          trigger: run.trigger,
          scheduledFor: run.scheduled_for.toISOString(),
          sessionId: run.session_id,
        },
      });
      const notice: Notice = {
        ownerId: schedule.owner_id,
        scheduleId: schedule.id,
        scheduleName: schedule.name,
        runId: run.id,
        sessionId: run.session_id,
        status,
        reason: run.reason,
        trigger: run.trigger,
        scheduledFor: run.scheduled_for.toISOString(),
        finishedAt: (run.finished_at ?? new Date()).toISOString(),
      };
      await tx`select pg_notify(${CHANNEL}, ${JSON.stringify(notice)})`;
    },

    /** Calls `listener` for each run of `userId`'s schedules that ends, on whichever control plane ran it. */
    onRunEnded(userId: string, listener: (notice: ScheduleRunNotification) => void): () => void {
      const filtered = ({ ownerId, ...notice }: Notice) => {
        if (ownerId === userId) listener(notice);
      };
      listeners.add(filtered);
      return () => listeners.delete(filtered);
    },

    async listen(): Promise<void> {
      listening ??= await sql.listen(CHANNEL, deliver);
    },

    async unlisten(): Promise<void> {
      const current = listening;
      listening = null;
      await current?.unlisten().catch((error: unknown) => log.warn({ err: error }, 'could not stop listening for schedule runs'));
    },
  };
}

export type ScheduleService = ReturnType<typeof createScheduleService>;
