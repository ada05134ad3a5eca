import { createHash } from 'node:crypto';
import {
  type Agent,
  AgentSpec,
  type AgentSummary,
  type CreateAgentBody,
  type FieldIssue,
  type UpdateAgentBody,
} from '@switchboard/protocol';
import type { Actor } from '../audit/actions.js';
import type { AuditService } from '../audit/audit-service.js';
import type { AuthContext } from '../auth/auth-plugin.js';
import type { Queryable, Sql } from '../db/client.js';
import { isUniqueViolation } from '../db/errors.js';
import { AppError, conflict, notFound } from '../errors.js';
import { checkOutbound, type OutboundRules } from '../net/outbound.js';
import type { ProviderService } from '../providers/provider-service.js';
import type { SecretService } from '../secrets/secret-service.js';
import { isTeamMember } from '../sessions/session-repository.js';
import { teamExists } from '../teams/team-repository.js';
import * as repo from './agent-repository.js';
import { secretNames } from './materialize.js';

export type AgentService = ReturnType<typeof createAgentService>;

/** The agent a session runs: a defined one at a fixed version, or one of OpenCode's own. */
export interface SessionAgent {
  name: string;
  defined: { id: string; version: number; spec: AgentSpec } | null;
}

/** OpenCode's built-in primary agents, allowed when no defined agent has that name. */
export const BUILTIN_AGENTS = new Set(['build', 'plan']);
const SPEC_KEYS = Object.keys(AgentSpec.shape) as (keyof AgentSpec)[];

/** Admins and viewers see every agent; others see agents shared with everyone or with one of their teams. */
const seesAll = (auth: AuthContext) => auth.user.role === 'admin' || auth.user.role === 'viewer';

/** What the audit trail keeps of a version: its shape, never prompt text or server settings (which may hold values). */
function auditSpec(spec: AgentSpec, version: number) {
  return {
    version,
    model: spec.model,
    memory: spec.memory,
    maxBudgetPerSessionMicros: spec.maxBudgetPerSessionMicros,
    toolPolicy: spec.toolPolicy,
    skills: spec.skills.map((skill) => skill.name),
    mcpServers: Object.fromEntries(Object.entries(spec.mcpServers).map(([name, server]) => [name, server.type])),
    promptSha256: createHash('sha256').update(spec.systemPrompt).digest('hex'),
    promptLength: spec.systemPrompt.length,
  };
}

export function createAgentService({
  sql,
  audit,
  secrets,
  providers,
  outbound,
}: {
  sql: Sql;
  audit: AuditService;
  secrets: SecretService;
  providers: ProviderService;
  outbound: OutboundRules;
}) {
  async function visible(auth: AuthContext, row: repo.AgentRow): Promise<boolean> {
    return seesAll(auth) || row.team_id === null || (await isTeamMember(sql, row.team_id, auth.user.id));
  }

  /** An agent the caller may see; hidden agents read as absent. */
  async function access(auth: AuthContext, id: string): Promise<repo.AgentRow> {
    const row = await repo.getAgent(sql, id);
    if (!row || !(await visible(auth, row))) throw notFound('Agent');
    return row;
  }

  /** Refuses a definition whose model, team or secrets do not exist, naming the field. */
  async function validate(spec: Partial<AgentSpec>, teamId: string | null | undefined): Promise<void> {
    const issues: FieldIssue[] = [];
    if (spec.model && !(await providers.resolve(spec.model))) issues.push({ path: 'model', message: `No model named "${spec.model}"` });
    if (teamId && !(await teamExists(sql, teamId))) issues.push({ path: 'teamId', message: 'No such team' });
    if (spec.mcpServers) {
      const refs = secretNames({ mcpServers: spec.mcpServers });
      const existing = await secrets.existing(refs.map((ref) => ref.name));
      for (const ref of refs) if (!existing.has(ref.name)) issues.push({ path: ref.path, message: `No secret named "${ref.name}"` });
      for (const [name, server] of Object.entries(spec.mcpServers)) {
        if (server.type !== 'remote') continue;
        await checkOutbound(server.url, outbound, `The URL of MCP server "${name}"`).catch((error: unknown) => {
          if (!(error instanceof AppError)) throw error;
          issues.push({ path: `mcpServers.${name}.url`, message: error.message });
        });
      }
    }
    const [first] = issues;
    if (first) throw new AppError('BAD_REQUEST', `Invalid ${first.path}: ${first.message}`, { location: 'body', issues });
  }

  const named = (name: string) => (error: unknown) => {
    if (isUniqueViolation(error)) throw conflict(`An agent named "${name}" already exists.`);
    throw error;
  };

  /** The live agent of that name, if the caller may see it; a hidden one reads as absent. */
  async function findVisible(auth: AuthContext, name: string): Promise<repo.AgentRow | undefined> {
    const row = await repo.findLiveByName(sql, name);
    return row && (await visible(auth, row)) ? row : undefined;
  }

  async function current(tx: Queryable, row: repo.AgentRow): Promise<repo.AgentVersionRow> {
    return (await repo.getVersion(tx, row.id, row.current_version)) as repo.AgentVersionRow;
  }

  return {
    async list(auth: AuthContext): Promise<AgentSummary[]> {
      return (await repo.listAgents(sql, seesAll(auth) ? {} : { visibleTo: auth.user.id })).map(repo.toSummary);
    },

    async get(auth: AuthContext, id: string, version?: number): Promise<Agent> {
      const row = await access(auth, id);
      const found = await repo.getVersion(sql, id, version ?? row.current_version);
      if (!found) throw notFound(`Version ${version} of this agent`);
      return repo.toAgent(row, found);
    },

    async versions(auth: AuthContext, id: string) {
      await access(auth, id);
      const rows = await repo.listVersions(sql, id);
      return rows.map((row) => ({ version: row.version, createdAt: row.created_at.toISOString(), createdBy: row.created_by }));
    },

    async create(actor: Actor, body: CreateAgentBody): Promise<Agent> {
      const { name, teamId, ...rest } = body;
      const spec = AgentSpec.parse(rest);
      await validate(spec, teamId);
      return sql
        .begin(async (tx) => {
          const row = await repo.insertAgent(tx, { name, teamId: teamId ?? null, createdBy: actor.userId ?? null });
          const version = await repo.insertVersion(tx, row.id, 1, spec, actor.userId ?? null);
          await audit.record(tx, actor, {
            action: 'agent.create',
            target: { type: 'agent', id: row.id },
            payload: { name, teamId: teamId ?? null, ...auditSpec(spec, 1) },
          });
          return repo.toAgent(row, version);
        })
        .catch(named(name));
    },

    /** Changes to the definition make a new version; name and visibility change the agent itself. */
    async update(actor: Actor, id: string, patch: UpdateAgentBody): Promise<Agent> {
      await validate(patch, patch.teamId);
      return sql
        .begin(async (tx) => {
          const row = await repo.getAgent(tx, id, { lock: true });
          if (!row) throw notFound('Agent');
          if (row.archived_at) throw conflict('This agent is archived. Create a new one.');
          const before = await current(tx, row);
          const spec = AgentSpec.parse({ ...repo.toSpec(before), ...pickSpec(patch) });
          const changed = SPEC_KEYS.filter((key) => JSON.stringify(spec[key]) !== JSON.stringify(repo.toSpec(before)[key]));
          const version = changed.length > 0 ? await repo.insertVersion(tx, id, before.version + 1, spec, actor.userId ?? null) : before;
          const updated = await repo.updateAgent(tx, id, { name: patch.name, teamId: patch.teamId, currentVersion: version.version });
          await audit.record(tx, actor, {
            action: 'agent.update',
            target: { type: 'agent', id },
            payload: {
              name: updated.name,
              ...(patch.name && patch.name !== row.name ? { renamedFrom: row.name } : {}),
              ...(patch.teamId !== undefined ? { teamId: patch.teamId } : {}),
              changed,
              ...auditSpec(spec, version.version),
            },
          });
          return repo.toAgent(updated, version);
        })
        .catch(named(patch.name ?? ''));
    },

    async archive(actor: Actor, id: string): Promise<Agent> {
      return sql.begin(async (tx) => {
        const row = await repo.getAgent(tx, id, { lock: true });
        if (!row) throw notFound('Agent');
        const archived = row.archived_at ? row : await repo.archiveAgent(tx, id);
        await audit.record(tx, actor, { action: 'agent.archive', target: { type: 'agent', id }, payload: { name: row.name } });
        return repo.toAgent(archived, await current(tx, archived));
      });
    },

    /**
     * The agent a new session runs: a defined agent of that name the user may see (at its current
     * version), else one of OpenCode's built-in agents, else a BAD_REQUEST naming the unknown name.
     */
    async forSession(auth: AuthContext, name: string | undefined): Promise<SessionAgent> {
      if (!name) return { name: 'build', defined: null };
      const row = await findVisible(auth, name);
      if (row) return { name, defined: { id: row.id, version: row.current_version, spec: repo.toSpec(await current(sql, row)) } };
      if (BUILTIN_AGENTS.has(name)) return { name, defined: null };
      throw new AppError(
        'BAD_REQUEST',
        `There is no agent named "${name}". List agents with agent/list; OpenCode's own are build and plan.`,
        {
          issues: [{ path: 'agent', message: 'Unknown agent' }],
        },
      );
    },

    /** The spec of the version a session was started with. */
    async versionSpec(agentId: string, version: number): Promise<AgentSpec | undefined> {
      const row = await repo.getVersion(sql, agentId, version);
      return row && repo.toSpec(row);
    },
  };
}

function pickSpec(patch: UpdateAgentBody): Partial<AgentSpec> {
  return Object.fromEntries(SPEC_KEYS.filter((key) => patch[key] !== undefined).map((key) => [key, patch[key]]));
}
