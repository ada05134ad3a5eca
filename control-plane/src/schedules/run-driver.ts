import { type ApprovalPolicy, rpcRequests, type SessionEventNotification } from '@switchboard/protocol';
import type { AgentService } from '../agents/agent-service.js';
import type { Actor } from '../audit/actions.js';
import type { AuthContext } from '../auth/auth-plugin.js';
import type { Config } from '../config.js';
import type { Sql } from '../db/client.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { EventStore } from '../sessions/event-store.js';
import type { HarnessBridge } from '../sessions/harness-bridge.js';
import { DEFAULT_POLICY } from '../sessions/policy.js';
import { teamPolicy } from '../sessions/session-repository.js';
import type { SessionService } from '../sessions/session-service.js';
import { getUser } from '../users/user-repository.js';
import { duration, formatSlot } from './cron.js';
import { approvalReason, neededApproval, scheduledRunPolicy } from './run-policy.js';
import * as repo from './schedule-repository.js';
import { type ScheduleService, scheduleActor } from './schedule-service.js';

export interface DriverDeps {
  sql: Sql;
  log: Logger;
  config: Config;
  sessions: SessionService;
  bridge: HarnessBridge;
  events: EventStore;
  schedules: ScheduleService;
  agents: AgentService;
}

interface ActiveRun {
  run: repo.RunRow;
  schedule: repo.ScheduleRow;
  actor: Actor;
  auth: AuthContext | null;
  sessionId: string | null;
  base: ApprovalPolicy;
  prompted: boolean;
  /** The first reason this run cannot count as a success (a refusal, an error event). */
  problem: string | null;
  done: boolean;
  off: () => void;
  timer: NodeJS.Timeout | null;
}

/**
 * Drives claimed runs on this control plane: each is a normal session of the schedule's owner,
 * created and prompted by the system on the owner's behalf, read as it goes, and ended (succeeded
 * or failed, with the reason) when its turn ends.
 */
export function createRunDriver(deps: DriverDeps) {
  const { sql, log, config } = deps;
  const active = new Map<string, ActiveRun>();

  async function finish(state: ActiveRun, status: 'succeeded' | 'failed', reason: string | null): Promise<void> {
    if (state.done) return;
    state.done = true;
    state.off();
    if (state.timer) clearTimeout(state.timer);
    active.delete(state.run.id);
    try {
      await sql.begin(async (tx) => {
        const ended = await repo.finishRun(tx, state.run.id, status, reason?.slice(0, 2000) ?? null);
        if (ended) await deps.schedules.recordRunEnd(tx, state.schedule, ended);
      });
    } catch (error) {
      log.error({ err: error, runId: state.run.id }, 'could not record the end of a scheduled run');
    }
  }

  function reasonOf(error: unknown, state: ActiveRun): string {
    if (error instanceof AppError) return error.message;
    log.error({ err: error, runId: state.run.id }, 'a scheduled run could not start');
    return 'The run could not start because of an internal error; it has been logged.';
  }

  /** Reads the run's session as it goes: refusals and errors are remembered, the end of the turn ends the run. */
  function observe(state: ActiveRun, { event }: SessionEventNotification): void {
    if (state.done) return;
    const target = { sessionId: state.sessionId as string };
    const answer = (work: Promise<void>) =>
      void work.catch((error: unknown) => log.warn({ err: error }, 'could not refuse an ask in a scheduled run'));
    switch (event.type) {
      case 'prompt':
        state.prompted = true;
        return;
      case 'error':
        state.problem ??= event.message;
        return;
      case 'permission.replied':
        if (
          event.reply === 'reject' &&
          event.by === 'policy' &&
          event.tool &&
          neededApproval(state.base, state.schedule.policy, event.tool)
        )
          state.problem ??= approvalReason(event.tool);
        return;
      // The run's policy has no ask; should one come anyway (a policy merged in later), nobody is there to answer it.
      case 'permission.asked':
        state.problem ??= approvalReason(event.tool);
        if (state.auth)
          answer(deps.bridge.replyPermission(state.auth, state.actor, { ...target, permissionId: event.permissionId, reply: 'reject' }));
        return;
      case 'question.asked':
        state.problem ??= 'The agent asked a question; scheduled runs cannot ask. Say in the prompt what it should decide on its own.';
        if (state.auth)
          answer(deps.bridge.replyQuestion(state.auth, state.actor, { ...target, questionId: event.questionId, answers: null }));
        return;
      case 'status':
        if (!state.prompted) return;
        if (event.status === 'archived') void finish(state, 'failed', 'The session was archived during the run.');
        else if (event.status === 'error') void finish(state, 'failed', state.problem ?? 'The session ended with an error.');
        else if (event.status === 'idle') void finish(state, state.problem ? 'failed' : 'succeeded', state.problem);
        return;
      default:
        return;
    }
  }

  async function overtime(state: ActiveRun): Promise<void> {
    if (state.auth && state.sessionId)
      await deps.sessions
        .abort(state.auth, state.actor, state.sessionId)
        .catch((error: unknown) => log.warn({ err: error }, 'abort failed'));
    await finish(
      state,
      'failed',
      `It ran longer than ${duration(config.scheduleMaxRunS * 1000)} (SWITCHBOARD_SCHEDULE_MAX_RUN_S) and was stopped.`,
    );
  }

  /** A pinned agent's current name (it may have been renamed); null when it was archived or hidden. */
  async function pinnedAgentName(auth: AuthContext, agentId: string): Promise<string | null> {
    const agent = await deps.agents.get(auth, agentId).catch((error: unknown) => {
      if (error instanceof AppError && error.code === 'NOT_FOUND') return null;
      throw error;
    });
    return agent && !agent.archivedAt ? agent.name : null;
  }

  /** Starts a claimed run as its owner: budget first (no session, no model call when it is spent), then the session and the prompt. */
  async function start(schedule: repo.ScheduleRow, run: repo.RunRow): Promise<void> {
    const state: ActiveRun = {
      run,
      schedule,
      actor: scheduleActor(schedule),
      auth: null,
      sessionId: null,
      base: DEFAULT_POLICY,
      prompted: false,
      problem: null,
      done: false,
      off: () => {},
      timer: null,
    };
    active.set(run.id, state);
    try {
      const owner = await getUser(sql, schedule.owner_id);
      if (!owner || owner.disabled) return await finish(state, 'failed', 'The owner’s account is disabled.');
      // No token: the system acts for the owner. Session code reads only the user from it.
      const auth: AuthContext = { user: owner, tokenId: '' };
      state.auth = auth;
      await deps.sessions.checkBudget(owner.id);
      const name = schedule.agent_id ? await pinnedAgentName(auth, schedule.agent_id) : schedule.agent;
      if (!name)
        return await finish(
          state,
          'failed',
          `The agent "${schedule.agent}" was archived or is hidden from the owner. Choose another agent.`,
        );
      // The same policy a session of this agent would get (agent's, else team's, else built-in), made ask-free.
      const agent = await deps.agents.forSession(auth, name);
      state.base = agent.defined?.spec.toolPolicy ?? (await teamPolicy(sql, schedule.team_id)) ?? DEFAULT_POLICY;
      const params = rpcRequests['session/create'].params.parse({
        title: `${schedule.name} · ${formatSlot(run.scheduled_for, schedule.time_zone)}`,
        agent: name,
        ...(schedule.model ? { model: schedule.model } : {}),
        ...(schedule.team_id ? { teamId: schedule.team_id } : {}),
        workspace: schedule.workspace,
        policy: scheduledRunPolicy(state.base, schedule.policy),
      });
      const session = await deps.sessions.create(auth, state.actor, params);
      state.sessionId = session.id;
      await repo.setRunSession(sql, run.id, session.id);
      if (state.done) return;
      state.off = deps.events.subscribe(session.id, (event) => observe(state, event));
      state.timer = setTimeout(() => void overtime(state), config.scheduleMaxRunS * 1000);
      state.timer.unref();
      await deps.sessions.prompt(auth, state.actor, { sessionId: session.id, text: schedule.prompt });
    } catch (error) {
      await finish(state, 'failed', reasonOf(error, state));
    }
  }

  return {
    start,
    has: (runId: string) => active.has(runId),
    runIds: () => [...active.keys()],
    /** Ends every run still going here as failed (the agent runtime is about to stop). */
    async stopAll(reason: string): Promise<void> {
      await Promise.all([...active.values()].map((state) => finish(state, 'failed', reason)));
    },
  };
}

export type RunDriver = ReturnType<typeof createRunDriver>;
