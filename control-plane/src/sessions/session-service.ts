import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { RpcParsedParams, Session } from '@switchboard/protocol';
import type { AgentService } from '../agents/agent-service.js';
import { secretNames } from '../agents/materialize.js';
import { checkSessionCap } from '../agents/session-budget.js';
import { removeSessionPrivate, sessionPrivateDir, writeSessionAgent, writeSessionKey } from '../agents/session-files.js';
import type { Actor } from '../audit/actions.js';
import type { AuditService } from '../audit/audit-service.js';
import type { AuthContext } from '../auth/auth-plugin.js';
import type { BudgetService } from '../budgets/budget-service.js';
import type { Config } from '../config.js';
import type { Sql } from '../db/client.js';
import { AppError, forbidden } from '../errors.js';
import { describeRefusal } from '../gateway/refusal.js';
import type { SessionKeyService } from '../gateway/session-keys.js';
import type { Harness } from '../harness/harness.js';
import type { Logger } from '../logger.js';
import type { ProviderService, ResolvedModel } from '../providers/provider-service.js';
import type { SecretService } from '../secrets/secret-service.js';
import type { EventStore } from './event-store.js';
import { harnessRules } from './policy.js';
import { sessionAccess } from './session-access.js';
import { ceilingPolicy } from './session-policy.js';
import * as repo from './session-repository.js';
import type { UploadService } from './upload-service.js';
import { harnessModel, type WorkspaceModel, workspaceDir, writeHarnessConfig } from './workspace.js';
import { listChanges, readWorkspaceFile } from './workspace-changes.js';
import { seedWorkspace } from './workspace-seed.js';

export { sessionAccess };

export interface SessionDeps {
  sql: Sql;
  audit: AuditService;
  log: Logger;
  config: Config;
  /** Where the runtime's folders live (workspaces, private folders): the data dir, unless its user cannot enter it. */
  runtimeDir: string;
  events: EventStore;
  harness: Harness | null;
  providers: ProviderService;
  budgets: BudgetService;
  sessionKeys: SessionKeyService;
  uploads: UploadService;
  agents: AgentService;
  secrets: SecretService;
}

/** Told once when a request has to wait for the agent runtime (the RPC layer turns it into `$/progress`). */
export type OnWait = (message: string) => void;

export const toWorkspaceModel = ({ model, provider }: ResolvedModel): WorkspaceModel => ({
  name: model.name,
  format: provider.kind === 'anthropic' ? 'anthropic' : 'openai',
  contextLimit: model.context_limit,
  outputLimit: model.output_limit,
});

export function createSessionService(deps: SessionDeps) {
  const { sql, audit, log, config, events } = deps;
  let gatewayUrl: string | null = config.gatewayUrl ?? null;

  const requireHarness = (): Harness => {
    if (!deps.harness) throw new AppError('HARNESS_UNAVAILABLE', 'No agent runtime runs on this control plane (SWITCHBOARD_HARNESS=off).');
    return deps.harness;
  };

  /**
   * The runtime and the address it reaches the gateway at, waiting (bounded) for a runtime that is
   * starting or restarting, so a session asked for in the first seconds after start gets one.
   */
  async function runningHarness(onWait?: OnWait): Promise<{ harness: Harness; gatewayUrl: string }> {
    const harness = requireHarness();
    if (harness.health().state !== 'running' || !gatewayUrl) {
      onWait?.('Waiting for the agent runtime to start…');
      const ready = await harness.whenReady(config.harnessWaitS * 1000);
      if (!ready || !gatewayUrl) {
        const { state, lastError } = harness.health();
        log.warn({ state, lastError }, 'a request gave up waiting for the agent runtime');
        throw new AppError(
          'HARNESS_UNAVAILABLE',
          `The agent runtime is not ready (${state}) after waiting ${config.harnessWaitS} s. Try again in a moment; if it persists, an admin can check /readyz and the control plane's log.`,
        );
      }
    }
    return { harness, gatewayUrl };
  }

  async function resolveModel(name: string | undefined): Promise<ResolvedModel> {
    if (name) {
      const found = await deps.providers.resolve(name);
      if (!found)
        throw new AppError('BAD_REQUEST', `The model "${name}" is not offered here. See /api/v1/models.`, {
          issues: [{ path: 'model', message: 'Unknown model' }],
        });
      return found;
    }
    const all = await deps.providers.enabledModels();
    const preferred = config.defaultModel ? all.find((model) => model.model.name === config.defaultModel) : undefined;
    const chosen = preferred ?? all[0];
    if (!chosen) throw new AppError('BAD_REQUEST', 'No model is configured yet. An admin adds a provider (POST /api/v1/providers) first.');
    return chosen;
  }

  /** Refuses a prompt up front when a budget of the user is already used up, with the figures for people. */
  async function checkBudget(userId: string): Promise<void> {
    const spent = (await deps.budgets.applicableTo(userId)).find(
      (budget) => budget.spentMicros + budget.reservedMicros >= budget.limitMicros,
    );
    if (!spent) return;
    const refusal = {
      scope: spent.scope,
      period: spent.period,
      budgetId: spent.id,
      teamId: spent.teamId,
      limitMicros: spent.limitMicros,
      spentMicros: spent.spentMicros,
      reservedMicros: spent.reservedMicros,
      requestedMicros: 0,
    };
    throw new AppError('BUDGET_EXCEEDED', describeRefusal(refusal), { budget: refusal });
  }

  return {
    /** Throws BUDGET_EXCEEDED (with the figures) when a budget of the user is used up; scheduled runs check before starting. */
    checkBudget,

    setGatewayUrl(url: string) {
      gatewayUrl ??= url.replace('://0.0.0.0:', '://127.0.0.1:').replace('://[::]:', '://127.0.0.1:');
    },

    async create(auth: AuthContext, actor: Actor, params: RpcParsedParams<'session/create'>, onWait?: OnWait): Promise<Session> {
      if (auth.user.role === 'viewer') throw forbidden('Viewers cannot start agents.');
      const { harness, gatewayUrl } = await runningHarness(onWait);
      const tooMany = () =>
        new AppError(
          'RATE_LIMITED',
          `You have ${config.maxSessionsPerUser} open sessions, the most one person may have. Archive sessions you no longer need, then try again.`,
          { limit: config.maxSessionsPerUser },
        );
      if ((await repo.countOpenSessions(sql, auth.user.id)) >= config.maxSessionsPerUser) throw tooMany();
      if (params.teamId && auth.user.role !== 'admin' && !(await repo.isTeamMember(sql, params.teamId, auth.user.id))) {
        throw forbidden('You can share sessions only with teams you belong to.');
      }
      // A defined agent brings its default model and its tool policy, which replaces the team's (or
      // the built-in) policy. A policy passed here is the user's own: it can only make that
      // stricter (see ceilingPolicy). The agent's secrets must open now.
      const agent = await deps.agents.forSession(auth, params.agent);
      const spec = agent.defined?.spec;
      const resolved = await resolveModel(params.model ?? spec?.model ?? undefined);
      const ownPolicy = params.policy ?? null;
      const ceiling = await ceilingPolicy(deps, {
        agent_id: agent.defined?.id ?? null,
        agent_version: agent.defined?.version ?? null,
        team_id: params.teamId ?? null,
      });
      const secretRefs = spec ? [...new Set(secretNames(spec).map((ref) => ref.name))] : [];
      const secretValues = await deps.secrets.open(secretRefs);
      const id = randomUUID();
      const dir = workspaceDir(deps.runtimeDir, id);
      const workspace = params.workspace ?? { kind: 'empty' as const };
      await seedWorkspace(dir, workspace, {
        dataDir: config.dataDir,
        sessionId: id,
        allowLocal: auth.user.role === 'admin',
        maxBytes: config.uploadLimitBytes,
        outbound: config.outbound,
        claimUpload: async (uploadId) => deps.uploads.claim(auth.user.id, uploadId),
        releaseUpload: (uploadId) => deps.uploads.release(uploadId),
      });

      const key = await sql
        .begin(async (tx) => {
          if ((await repo.countOpenSessions(tx, auth.user.id, { lock: true })) >= config.maxSessionsPerUser) throw tooMany();
          await tx`
          insert into sessions (id, user_id, team_id, title, agent, agent_id, agent_version, budget_cap_micros, model, workspace_dir, policy)
          values (${id}, ${auth.user.id}, ${params.teamId ?? null}, ${params.title}, ${agent.name}, ${agent.defined?.id ?? null},
                  ${agent.defined?.version ?? null}, ${spec?.maxBudgetPerSessionMicros ?? null}, ${resolved.model.name}, ${dir},
                  ${ownPolicy ? tx.json(ownPolicy) : null})`;
          const issued = await deps.sessionKeys.issue(tx, actor, auth.user.id, id);
          await audit.record(tx, actor, {
            action: 'session.create',
            target: { type: 'session', id },
            payload: {
              title: params.title,
              agent: agent.name,
              agentId: agent.defined?.id ?? null,
              agentVersion: agent.defined?.version ?? null,
              model: resolved.model.name,
              teamId: params.teamId ?? null,
              workspace: workspace.kind === 'git' ? { kind: 'git', url: workspace.url } : { kind: workspace.kind },
            },
          });
          if (secretRefs.length > 0)
            await audit.record(tx, actor, {
              action: 'secret.use',
              target: { type: 'session', id },
              payload: { agentId: agent.defined?.id, agentVersion: agent.defined?.version, secrets: secretRefs },
            });
          return issued.key;
        })
        .catch(async (error: unknown) => {
          // Nothing half-made: the seeded workspace goes with the refused row.
          await rm(dir, { recursive: true, force: true });
          throw error;
        });

      try {
        const models = (await deps.providers.enabledModels()).map(toWorkspaceModel);
        const model = toWorkspaceModel(resolved);
        const { providerId, modelId } = harnessModel(model);
        const keyRef = await writeSessionKey(deps.runtimeDir, id, key);
        const agentConfig = await writeSessionAgent({
          dataDir: deps.runtimeDir,
          dir,
          sessionId: id,
          agent,
          secretValues,
          // Tools denied outright (by the ceiling or the user's own rules) are removed from the agent.
          policy: [...ceiling, ...(ownPolicy ?? []).filter((rule) => rule.action === 'deny')],
          model: `${providerId}/${modelId}`,
          controlPlaneUrl: gatewayUrl,
          sessionKey: keyRef,
        });
        await writeHarnessConfig(dir, { gatewayUrl, key: keyRef, models, model, agent: agentConfig });
        await harness.adoptWorkspace({ workspace: dir, privateDir: sessionPrivateDir(deps.runtimeDir, id) });
        const { harnessSessionId } = await harness.createSession({
          directory: dir,
          title: params.title,
          permission: harnessRules(ceiling, ownPolicy),
        });
        await sql.begin(async (tx) => {
          await tx`update sessions set harness_session_id = ${harnessSessionId}, updated_at = now() where id = ${id}`;
          await tx`insert into harness_sessions (harness_session_id, user_id, session_id) values (${harnessSessionId}, ${auth.user.id}, ${id})`;
        });
        await events.append(id, [{ type: 'status', status: 'idle' }]);
      } catch (error) {
        log.error({ err: error, sessionId: id }, 'could not start the session on the harness');
        // A session that never started must not leave a key that spends its user's budget.
        await sql
          .begin((tx) => deps.sessionKeys.revokeForSession(tx, actor, id))
          .catch((revokeError: unknown) => log.error({ err: revokeError, sessionId: id }, 'could not revoke the key of a failed session'));
        await events.append(id, [
          {
            type: 'error',
            code: 'HARNESS_UNAVAILABLE',
            message: 'The agent runtime could not start this session. Try again, or create a new session.',
          },
          { type: 'status', status: 'error' },
        ]);
        throw new AppError('HARNESS_UNAVAILABLE', 'The agent runtime could not start this session. Try again in a moment.');
      }
      return repo.toSession((await repo.getSession(sql, id)) as repo.SessionRow);
    },

    async get(auth: AuthContext, sessionId: string): Promise<Session> {
      return repo.toSession(await sessionAccess(deps, auth, sessionId, 'read'));
    },

    async list(
      auth: AuthContext,
      params: { includeArchived: boolean; includeTeam: boolean; userId?: string | undefined; limit?: number },
    ): Promise<Session[]> {
      const everyone = auth.user.role === 'admin' && !params.userId;
      if (params.userId && params.userId !== auth.user.id && auth.user.role !== 'admin')
        throw forbidden('Only admins can list other users’ sessions.');
      const rows = await repo.listSessions(sql, {
        ...(everyone ? {} : { userId: params.userId ?? auth.user.id }),
        ...(params.includeTeam && !everyone ? { teamsOf: auth.user.id } : {}),
        includeArchived: params.includeArchived,
        limit: params.limit ?? 200,
      });
      return rows.map(repo.toSession);
    },

    /** Files the agent added, changed or deleted since the session started (whoever or whatever wrote them). */
    async changes(auth: AuthContext, sessionId: string) {
      const row = await sessionAccess(deps, auth, sessionId, 'read');
      return listChanges(config.dataDir, row.id, row.workspace_dir);
    },

    async file(auth: AuthContext, sessionId: string, file: string) {
      const row = await sessionAccess(deps, auth, sessionId, 'read');
      const { content, sha256 } = await readWorkspaceFile(row.workspace_dir, file);
      return { path: file, content: content?.toString('base64') ?? null, sha256 };
    },

    async prompt(
      auth: AuthContext,
      actor: Actor,
      params: { sessionId: string; text: string },
      onWait?: OnWait,
    ): Promise<{ messageId: string }> {
      const row = await sessionAccess(deps, auth, params.sessionId, 'write');
      if (row.status === 'archived') throw new AppError('CONFLICT', 'This session is archived. Start a new session.');
      if (row.status === 'busy' || row.status === 'retry')
        throw new AppError('CONFLICT', 'A turn is already running in this session. Wait for it, or abort it.');
      if (!row.harness_session_id)
        throw new AppError('HARNESS_UNAVAILABLE', 'This session never started on the agent runtime. Create a new session.');
      const { harness } = await runningHarness(onWait);
      await checkBudget(row.user_id);
      if (row.budget_cap_micros !== null) await checkSessionCap(sql, row.id);
      const resolved = await resolveModel(row.model);
      const messageId = `prompt_${randomUUID()}`;
      await events.appendWith(
        row.id,
        [
          { type: 'prompt', messageId, text: params.text, userId: auth.user.id },
          { type: 'status', status: 'busy' },
        ],
        async (tx) => {
          await audit.record(tx, actor, {
            action: 'session.prompt',
            target: { type: 'session', id: row.id },
            payload: audit.promptPayload(params.text),
          });
        },
      );
      try {
        // A session from before the runtime had its own user is handed over on its next turn.
        await harness.adoptWorkspace({ workspace: row.workspace_dir, privateDir: sessionPrivateDir(deps.runtimeDir, row.id) });
        await harness.prompt(
          { directory: row.workspace_dir, harnessSessionId: row.harness_session_id },
          { text: params.text, model: harnessModel(toWorkspaceModel(resolved)), agent: row.agent },
        );
      } catch (error) {
        log.error({ err: error, sessionId: row.id }, 'the harness refused a prompt');
        await events.append(row.id, [
          {
            type: 'error',
            code: 'HARNESS_UNAVAILABLE',
            message: 'The agent runtime did not take the prompt (it may be restarting). Send it again in a few seconds.',
          },
          { type: 'status', status: 'idle' },
        ]);
        throw new AppError('HARNESS_UNAVAILABLE', 'The agent runtime did not take the prompt. Send it again in a few seconds.');
      }
      return { messageId };
    },

    async abort(auth: AuthContext, actor: Actor, sessionId: string): Promise<{ aborted: boolean }> {
      const row = await sessionAccess(deps, auth, sessionId, 'write');
      const running = row.status === 'busy' || row.status === 'retry';
      if (running && row.harness_session_id)
        await requireHarness().abort({ directory: row.workspace_dir, harnessSessionId: row.harness_session_id });
      await audit.recordAlone(actor, {
        action: 'session.abort',
        target: { type: 'session', id: row.id },
        payload: { wasRunning: running },
      });
      return { aborted: running };
    },

    async archive(auth: AuthContext, actor: Actor, sessionId: string): Promise<Session> {
      const row = await sessionAccess(deps, auth, sessionId, 'write');
      if (row.status !== 'archived') {
        if ((row.status === 'busy' || row.status === 'retry') && row.harness_session_id && deps.harness) {
          await deps.harness.abort({ directory: row.workspace_dir, harnessSessionId: row.harness_session_id }).catch(() => {});
        }
        await events.appendWith(row.id, [{ type: 'status', status: 'archived' }], async (tx) => {
          await tx`update sessions set status = 'archived', archived_at = now() where id = ${row.id}`;
          await deps.sessionKeys.revokeForSession(tx, actor, row.id);
          await audit.record(tx, actor, {
            action: 'session.archive',
            target: { type: 'session', id: row.id },
            payload: { title: row.title },
          });
        });
        await deps.harness?.dispose(row.workspace_dir).catch(() => {});
        await removeSessionPrivate(deps.runtimeDir, row.id).catch(() => {});
      }
      return repo.toSession((await repo.getSession(sql, row.id)) as repo.SessionRow);
    },
  };
}

export type SessionService = ReturnType<typeof createSessionService>;
