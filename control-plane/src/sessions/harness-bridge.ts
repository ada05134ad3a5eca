import path from 'node:path';
import type { SessionEvent } from '@switchboard/protocol';
import type { Actor, AuditEntry } from '../audit/actions.js';
import type { AuthContext } from '../auth/auth-plugin.js';
import { AppError, forbidden } from '../errors.js';
import type { HarnessEvent } from '../harness/harness.js';
import { createLanes } from './lanes.js';
import { evaluate, leavesWorkspace } from './policy.js';
import { sessionAccess } from './session-access.js';
import { ceilingPolicy } from './session-policy.js';
import * as repo from './session-repository.js';
import type { SessionDeps } from './session-service.js';
import { budgetReason, usageEvent } from './turn-costs.js';
import { workspaceDir } from './workspace.js';

const SYSTEM_ACTOR: Actor = { type: 'system' };

/**
 * Where harness events meet the rest of the control plane: routes them to their session (subagent
 * sessions included), applies the approval policy to every tool use, persists and times out the
 * asks that wait for a person, and turns budget refusals into the detailed reason people read.
 */
export function createHarnessBridge(deps: SessionDeps) {
  const { sql, audit, log, events } = deps;
  const owners = new Map<string, { sessionId: string; userId: string }>();
  /** Main OpenCode session of each of our sessions (subagents report their own ids). */
  const mains = new Map<string, string>();
  const lanes = createLanes((error, key) => log.error({ err: error, lane: key }, 'could not handle a harness event'));
  /** Closing the asks of a process that died comes before any later event of its sessions. */
  let lifecycle: Promise<void> = Promise.resolve();
  const timers = new Map<string, NodeJS.Timeout>();
  let unsubscribe: (() => void) | null = null;

  async function ownerOf(harnessSessionId: string): Promise<{ sessionId: string; userId: string } | undefined> {
    const cached = owners.get(harnessSessionId);
    if (cached) return cached;
    const found = await deps.sessionKeys.harnessSessionOwner(harnessSessionId);
    if (found) {
      if (owners.size > 100_000) owners.clear();
      owners.set(harnessSessionId, found);
    }
    return found;
  }

  const timeoutMs = () => deps.config.approvalTimeoutS * 1000;
  // Another control plane may share the database: a restart here only touches the sessions whose
  // workspaces (and turns) live on this one's harness.
  const workspacesRoot = `${workspaceDir(deps.runtimeDir, '')}${path.sep}`;

  function arm(approvalId: string, sessionId: string, expiresAt: Date) {
    clearTimeout(timers.get(approvalId));
    const timer = setTimeout(
      () => void expire(approvalId, sessionId).catch((error) => log.error({ err: error }, 'approval timeout failed')),
      Math.max(0, expiresAt.getTime() - Date.now()),
    );
    timer.unref();
    timers.set(approvalId, timer);
  }

  async function target(sessionId: string) {
    const row = await repo.getSession(sql, sessionId);
    if (!row?.harness_session_id) throw new AppError('NOT_FOUND', 'Session was not found.');
    return { row, target: { directory: row.workspace_dir, harnessSessionId: row.harness_session_id } };
  }

  /** Why an answer changed nothing: an ask that needs an admin, or one that is not (or no longer) waiting in this session. */
  async function explainRefusedAnswer(sessionId: string, id: string, kind: 'permission' | 'question'): Promise<never> {
    const approval = await repo.getApproval(sql, id);
    if (approval && approval.session_id === sessionId && approval.kind === kind && approval.status === 'pending')
      throw forbidden('This tool needs an admin’s approval. Ask an admin to allow it, or refuse it.');
    throw new AppError(
      'CONFLICT',
      kind === 'permission'
        ? 'This request is no longer waiting for an answer (answered, timed out, or unknown).'
        : 'This question is no longer waiting for an answer.',
    );
  }

  /**
   * A person's answer: the session, the kind and the right to allow are checked in the UPDATE that
   * decides the ask, and its audit row commits with it; the ask's timer stops.
   */
  async function answer(
    auth: AuthContext,
    actor: Actor,
    input: { sessionId: string; id: string; kind: 'permission' | 'question'; status: 'once' | 'always' | 'reject' | 'answered' },
    entry: (row: repo.ApprovalRow) => AuditEntry,
  ): Promise<repo.ApprovalRow> {
    await sessionAccess(deps, auth, input.sessionId, 'write');
    const decided = await sql.begin(async (tx) => {
      const answered = await repo.answerApproval(tx, { ...input, userId: auth.user.id, isAdmin: auth.user.role === 'admin' });
      if (answered) await audit.record(tx, actor, entry(answered));
      return answered;
    });
    if (!decided) return explainRefusedAnswer(input.sessionId, input.id, input.kind);
    clearTimeout(timers.get(input.id));
    timers.delete(input.id);
    return decided;
  }

  /** An ask nobody answered in time is rejected, so a headless turn never hangs. */
  async function expire(approvalId: string, sessionId: string) {
    timers.delete(approvalId);
    const decided = await repo.decideApproval(sql, approvalId, 'expired', 'timeout', null);
    if (!decided) return;
    const { target: t } = await target(sessionId);
    if (decided.kind === 'permission') await deps.harness?.replyPermission(t, approvalId, 'reject').catch(() => {});
    else await deps.harness?.rejectQuestion(t, approvalId).catch(() => {});
    const event: SessionEvent =
      decided.kind === 'permission'
        ? {
            type: 'permission.replied',
            permissionId: approvalId,
            tool: decided.tool,
            reply: 'reject',
            by: 'timeout',
            reason: 'Nobody answered in time.',
          }
        : { type: 'question.answered', questionId: approvalId, answers: null, by: 'timeout' };
    await events.appendWith(sessionId, [event], async (tx) => {
      await audit.record(tx, SYSTEM_ACTOR, {
        action: 'tool.approval',
        target: { type: 'session', id: sessionId },
        outcome: 'denied',
        payload: { approvalId, tool: decided.tool, decision: 'expired', by: 'timeout' },
      });
    });
  }

  async function onPermission(event: Extract<HarnessEvent, { kind: 'permission' }>, owner: { sessionId: string; userId: string }) {
    const row = await repo.getSession(sql, owner.sessionId);
    if (!row) return;
    const ceiling = await ceilingPolicy(deps, row);
    const outside = leavesWorkspace(row.workspace_dir, event.permission, event.patterns);
    const verdict = outside
      ? { action: 'deny' as const, adminApproval: false }
      : evaluate(ceiling, row.policy, event.permission, event.patterns);
    const decision = verdict.action;
    const t = { directory: event.directory, harnessSessionId: event.harnessSessionId };
    if (decision === 'ask') {
      const expiresAt = new Date(Date.now() + timeoutMs());
      await repo.insertApproval(sql, {
        id: event.permissionId,
        session_id: row.id,
        kind: 'permission',
        tool: event.permission,
        patterns: event.patterns,
        title: event.title,
        approver: verdict.adminApproval ? 'admin' : 'owner',
        expires_at: expiresAt,
      });
      await events.append(row.id, [
        {
          type: 'permission.asked',
          permissionId: event.permissionId,
          tool: event.permission,
          patterns: event.patterns,
          title: event.title,
          expiresAt: expiresAt.toISOString(),
        },
      ]);
      arm(event.permissionId, row.id, expiresAt);
      return;
    }
    const reply = decision === 'allow' ? 'once' : 'reject';
    await deps.harness?.replyPermission(t, event.permissionId, reply);
    const reason = outside
      ? 'It reaches outside the session workspace.'
      : decision === 'deny'
        ? 'The approval policy denies it.'
        : undefined;
    await events.appendWith(
      row.id,
      [
        {
          type: 'permission.replied',
          permissionId: event.permissionId,
          tool: event.permission,
          reply,
          by: 'policy',
          ...(reason ? { reason } : {}),
        },
      ],
      async (tx) => {
        await audit.record(
          tx,
          { type: 'user', userId: row.user_id },
          {
            action: 'tool.approval',
            target: { type: 'session', id: row.id },
            outcome: reply === 'once' ? 'ok' : 'denied',
            payload: {
              approvalId: event.permissionId,
              tool: event.permission,
              patterns: event.patterns,
              decision: reply,
              by: 'policy',
              reason,
            },
          },
        );
      },
    );
  }

  /** Asks of a process that is gone can never be answered: close them so no client waits on them. */
  async function closePendingApprovals(reason: string): Promise<void> {
    for (const approval of await repo.pendingApprovals(sql, workspacesRoot)) {
      const decided = await repo.decideApproval(sql, approval.id, 'expired', 'system', null);
      if (!decided) continue;
      clearTimeout(timers.get(approval.id));
      timers.delete(approval.id);
      const event: SessionEvent =
        approval.kind === 'permission'
          ? { type: 'permission.replied', permissionId: approval.id, tool: approval.tool, reply: 'reject', by: 'system', reason }
          : { type: 'question.answered', questionId: approval.id, answers: null, by: 'system' };
      await events.appendWith(approval.session_id, [event], async (tx) => {
        await audit.record(tx, SYSTEM_ACTOR, {
          action: approval.kind === 'permission' ? 'tool.approval' : 'question.answer',
          target: { type: 'session', id: approval.session_id },
          outcome: 'denied',
          payload: { approvalId: approval.id, tool: approval.tool, decision: 'expired', by: 'system', reason },
        });
      });
    }
  }

  async function registerChild(event: Extract<HarnessEvent, { kind: 'child' }>): Promise<void> {
    const parent = await ownerOf(event.parentId);
    if (!parent) return;
    owners.set(event.harnessSessionId, parent);
    await sql`
      insert into harness_sessions (harness_session_id, user_id, session_id) values (${event.harnessSessionId}, ${parent.userId}, ${parent.sessionId})
      on conflict do nothing`;
  }

  /**
   * One lane per OpenCode session finds the owner, then one lane per Switchboard session handles the
   * event: each session's events keep the order OpenCode sent them in (a usage figure that needs a
   * price lookup is stored before the idle that followed it), and no session waits for another's
   * database work.
   */
  function route(event: HarnessEvent): void {
    if (event.kind === 'lifecycle') {
      if (event.state !== 'exited') return;
      const closing = lifecycle.then(() => closePendingApprovals('The agent runtime restarted.'));
      lifecycle = closing.catch((error: unknown) => log.error({ err: error }, 'could not close the asks of the old process'));
      return;
    }
    const before = lifecycle;
    lanes.run(`harness:${event.harnessSessionId}`, async () => {
      await before;
      if (event.kind === 'child') return registerChild(event);
      const owner = await ownerOf(event.harnessSessionId);
      if (!owner) return;
      lanes.run(`session:${owner.sessionId}`, () => handle(event, owner));
    });
  }

  async function handle(
    event: Exclude<HarnessEvent, { kind: 'lifecycle' | 'child' }>,
    owner: { sessionId: string; userId: string },
  ): Promise<void> {
    switch (event.kind) {
      case 'session': {
        // Subagents run inside the turn: their status changes are not the session's.
        if (event.event.type === 'status') {
          let main = mains.get(owner.sessionId);
          if (main === undefined) {
            main = (await repo.getSession(sql, owner.sessionId))?.harness_session_id ?? '';
            mains.set(owner.sessionId, main);
          }
          if (main !== event.harnessSessionId) return;
        }
        const extra: SessionEvent[] = [];
        if (event.event.type === 'status' && event.event.detail === 'interrupted') {
          extra.push({
            type: 'error',
            code: 'HARNESS_UNAVAILABLE',
            message: 'The agent runtime restarted and this turn was interrupted. Your transcript is kept; send the prompt again.',
          });
        }
        // Not awaited: the store keeps the order of the calls and batches the writes of all sessions.
        void events.append(owner.sessionId, [...extra, event.event]).catch(() => {});
        return;
      }
      case 'usage': {
        const usage = await usageEvent(deps.providers, event.usage);
        void events.append(owner.sessionId, [usage]).catch(() => {});
        return;
      }
      case 'error': {
        const refused = event.statusCode === 402 && (event.responseBody ?? '').includes('BUDGET_EXCEEDED');
        if (refused) {
          const { message, details } = await budgetReason(sql, owner.sessionId);
          await events.append(owner.sessionId, [{ type: 'error', code: 'BUDGET_EXCEEDED', message, ...(details ? { details } : {}) }]);
          return;
        }
        const message = event.statusCode ? `The model call failed (${event.statusCode}): ${event.message}` : event.message;
        await events.append(owner.sessionId, [{ type: 'error', code: 'UPSTREAM_ERROR', message: message.slice(0, 2000) }]);
        return;
      }
      case 'permission':
        return onPermission(event, owner);
      case 'question': {
        const expiresAt = new Date(Date.now() + timeoutMs());
        await repo.insertApproval(sql, {
          id: event.questionId,
          session_id: owner.sessionId,
          kind: 'question',
          tool: 'question',
          patterns: [],
          title: event.questions[0]?.question ?? 'Question',
          approver: 'owner',
          expires_at: expiresAt,
        });
        await events.append(owner.sessionId, [
          { type: 'question.asked', questionId: event.questionId, questions: event.questions, expiresAt: expiresAt.toISOString() },
        ]);
        arm(event.questionId, owner.sessionId, expiresAt);
        return;
      }
    }
  }

  return {
    start() {
      if (!deps.harness) return;
      unsubscribe = deps.harness.onEvent(route);
    },

    /** After a restart the old process's asks are gone: close them, and end turns that were running. */
    async reconcile(): Promise<void> {
      await closePendingApprovals('The control plane restarted.');
      for (const { id } of await repo.runningSessions(sql, workspacesRoot)) {
        await events.append(id, [
          {
            type: 'error',
            code: 'HARNESS_UNAVAILABLE',
            message: 'The control plane restarted and this turn was interrupted. Your transcript is kept; send the prompt again.',
          },
          { type: 'status', status: 'idle', detail: 'interrupted' },
        ]);
      }
    },

    async replyPermission(
      auth: AuthContext,
      actor: Actor,
      params: { sessionId: string; permissionId: string; reply: 'once' | 'always' | 'reject' },
    ): Promise<void> {
      const approval = await answer(
        auth,
        actor,
        { sessionId: params.sessionId, id: params.permissionId, kind: 'permission', status: params.reply },
        (row) => ({
          action: 'tool.approval',
          target: { type: 'session', id: params.sessionId },
          outcome: params.reply === 'reject' ? 'denied' : 'ok',
          payload: { approvalId: params.permissionId, tool: row.tool, patterns: row.patterns, decision: params.reply, by: 'user' },
        }),
      );
      const { target: t } = await target(params.sessionId);
      await deps.harness?.replyPermission(t, params.permissionId, params.reply);
      await events.append(params.sessionId, [
        { type: 'permission.replied', permissionId: params.permissionId, tool: approval.tool, reply: params.reply, by: 'user' },
      ]);
    },

    async replyQuestion(
      auth: AuthContext,
      actor: Actor,
      params: { sessionId: string; questionId: string; answers: string[][] | null },
    ): Promise<void> {
      await answer(auth, actor, { sessionId: params.sessionId, id: params.questionId, kind: 'question', status: 'answered' }, () => ({
        action: 'question.answer',
        target: { type: 'session', id: params.sessionId },
        payload: { questionId: params.questionId, answers: params.answers },
      }));
      const { target: t } = await target(params.sessionId);
      if (params.answers) await deps.harness?.replyQuestion(t, params.questionId, params.answers);
      else await deps.harness?.rejectQuestion(t, params.questionId);
      await events.append(params.sessionId, [
        { type: 'question.answered', questionId: params.questionId, answers: params.answers, by: 'user' },
      ]);
    },

    async stop() {
      unsubscribe?.();
      unsubscribe = null;
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      await lifecycle;
      await lanes.idle();
    },
    pendingTimers: () => timers.size,
  };
}

export type HarnessBridge = ReturnType<typeof createHarnessBridge>;
