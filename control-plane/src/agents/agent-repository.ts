import type { Agent, AgentSpec, AgentSummary, ApprovalPolicy } from '@switchboard/protocol';
import type { Queryable } from '../db/client.js';

export interface AgentRow {
  id: string;
  name: string;
  team_id: string | null;
  current_version: number;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
  archived_at: Date | null;
}

export interface AgentVersionRow {
  agent_id: string;
  version: number;
  description: string;
  model: string | null;
  system_prompt: string;
  tool_policy: ApprovalPolicy | null;
  skills: AgentSpec['skills'];
  mcp_servers: AgentSpec['mcpServers'];
  memory: boolean;
  max_budget_per_session_micros: bigint | null;
  created_by: string | null;
  created_at: Date;
}

export function toSpec(version: AgentVersionRow): AgentSpec {
  return {
    description: version.description,
    model: version.model,
    systemPrompt: version.system_prompt,
    toolPolicy: version.tool_policy,
    skills: version.skills,
    mcpServers: version.mcp_servers,
    memory: version.memory,
    maxBudgetPerSessionMicros: version.max_budget_per_session_micros === null ? null : Number(version.max_budget_per_session_micros),
  };
}

export function toAgent(row: AgentRow, version: AgentVersionRow): Agent {
  return {
    id: row.id,
    name: row.name,
    teamId: row.team_id,
    version: version.version,
    currentVersion: row.current_version,
    ...toSpec(version),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    archivedAt: row.archived_at?.toISOString() ?? null,
  };
}

export function toSummary(row: AgentRow & Pick<AgentVersionRow, 'description' | 'model' | 'memory'>): AgentSummary {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    model: row.model,
    version: row.current_version,
    teamId: row.team_id,
    memory: row.memory,
  };
}

export async function insertAgent(sql: Queryable, agent: { name: string; teamId: string | null; createdBy: string | null }) {
  const [row] = await sql<AgentRow[]>`
    insert into agents (name, team_id, created_by) values (${agent.name}, ${agent.teamId}, ${agent.createdBy}) returning *`;
  return row as AgentRow;
}

export async function insertVersion(
  sql: Queryable,
  agentId: string,
  version: number,
  spec: AgentSpec,
  createdBy: string | null,
): Promise<AgentVersionRow> {
  const [row] = await sql<AgentVersionRow[]>`
    insert into agent_versions (agent_id, version, description, model, system_prompt, tool_policy, skills, mcp_servers, memory,
                                max_budget_per_session_micros, created_by)
    values (${agentId}, ${version}, ${spec.description}, ${spec.model}, ${spec.systemPrompt},
            ${spec.toolPolicy ? sql.json(spec.toolPolicy as never) : null}, ${sql.json(spec.skills as never)}, ${sql.json(spec.mcpServers as never)},
            ${spec.memory}, ${spec.maxBudgetPerSessionMicros}, ${createdBy})
    returning *`;
  return row as AgentVersionRow;
}

export async function getAgent(sql: Queryable, id: string, { lock = false } = {}): Promise<AgentRow | undefined> {
  const [row] = await sql<AgentRow[]>`select * from agents where id = ${id} ${lock ? sql`for update` : sql``}`;
  return row;
}

export async function getVersion(sql: Queryable, agentId: string, version: number): Promise<AgentVersionRow | undefined> {
  const [row] = await sql<AgentVersionRow[]>`select * from agent_versions where agent_id = ${agentId} and version = ${version}`;
  return row;
}

export async function findLiveByName(sql: Queryable, name: string): Promise<AgentRow | undefined> {
  const [row] = await sql<AgentRow[]>`select * from agents where name = ${name} and archived_at is null`;
  return row;
}

/** Live agents with their current version's summary fields; `visibleTo` limits them to what that user may see. */
export function listAgents(
  sql: Queryable,
  filter: { visibleTo?: string | undefined },
): Promise<(AgentRow & Pick<AgentVersionRow, 'description' | 'model' | 'memory'>)[]> {
  return sql<(AgentRow & Pick<AgentVersionRow, 'description' | 'model' | 'memory'>)[]>`
    select a.*, v.description, v.model, v.memory
    from agents a join agent_versions v on v.agent_id = a.id and v.version = a.current_version
    where a.archived_at is null
    ${filter.visibleTo ? sql`and (a.team_id is null or a.team_id in (select team_id from team_members where user_id = ${filter.visibleTo}))` : sql``}
    order by a.name`;
}

export function listVersions(sql: Queryable, agentId: string): Promise<Pick<AgentVersionRow, 'version' | 'created_at' | 'created_by'>[]> {
  return sql`select version, created_at, created_by from agent_versions where agent_id = ${agentId} order by version desc`;
}

export async function updateAgent(
  sql: Queryable,
  id: string,
  patch: { name?: string | undefined; teamId?: string | null | undefined; currentVersion?: number | undefined },
): Promise<AgentRow> {
  const [row] = await sql<AgentRow[]>`
    update agents set
      name = coalesce(${patch.name ?? null}, name),
      team_id = ${patch.teamId === undefined ? sql`team_id` : patch.teamId},
      current_version = coalesce(${patch.currentVersion ?? null}, current_version),
      updated_at = now()
    where id = ${id} returning *`;
  return row as AgentRow;
}

export async function archiveAgent(sql: Queryable, id: string): Promise<AgentRow> {
  const [row] = await sql<AgentRow[]>`update agents set archived_at = now(), updated_at = now() where id = ${id} returning *`;
  return row as AgentRow;
}

/** Names of live agents whose current version names the secret in one of its MCP servers. */
export async function agentsUsingSecret(sql: Queryable, secret: string): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    select a.name from agents a join agent_versions v on v.agent_id = a.id and v.version = a.current_version
    where a.archived_at is null and jsonb_path_exists(v.mcp_servers, '$.*.*.*.secret ? (@ == $name)', ${sql.json({ name: secret })})
    order by a.name`;
  return rows.map((row) => row.name);
}
