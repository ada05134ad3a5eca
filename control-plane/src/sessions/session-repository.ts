import type { ApprovalPolicy, Session, SessionStatus } from '@switchboard/protocol';
import type { Queryable } from '../db/client.js';

export interface SessionRow {
  id: string;
  user_id: string;
  team_id: string | null;
  title: string;
  agent: string;
  agent_id: string | null;
  agent_version: number | null;
  budget_cap_micros: bigint | null;
  model: string;
  status: SessionStatus;
  workspace_dir: string;
  harness_session_id: string | null;
  policy: ApprovalPolicy | null;
  last_seq: bigint;
  created_at: Date;
  updated_at: Date;
}

export function toSession(row: SessionRow): Session {
  return {
    id: row.id,
    userId: row.user_id,
    teamId: row.team_id,
    title: row.title,
    agent: row.agent,
    agentId: row.agent_id,
    agentVersion: row.agent_version,
    model: row.model,
    status: row.status,
    lastSeq: Number(row.last_seq),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** Open (not archived) sessions of a user; with `lock`, serialises the count with other creates of that user until the transaction ends. */
export async function countOpenSessions(sql: Queryable, userId: string, { lock = false } = {}): Promise<number> {
  if (lock) await sql`select pg_advisory_xact_lock(hashtextextended(${`sessions:${userId}`}, 0))`;
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from sessions where user_id = ${userId} and status <> 'archived'`;
  return row?.n ?? 0;
}

export async function getSession(sql: Queryable, id: string): Promise<SessionRow | undefined> {
  const [row] = await sql<SessionRow[]>`select * from sessions where id = ${id}`;
  return row;
}

/** Own sessions, plus (when asked) sessions of the caller's teams; admins may list anyone's. */
export function listSessions(
  sql: Queryable,
  filter: { userId?: string; teamsOf?: string; includeArchived: boolean; limit: number },
): Promise<SessionRow[]> {
  return sql<SessionRow[]>`
    select * from sessions s
    where (
      ${filter.userId ? sql`s.user_id = ${filter.userId}` : sql`true`}
      ${filter.teamsOf ? sql`or s.team_id in (select team_id from team_members where user_id = ${filter.teamsOf})` : sql``}
    )
    ${filter.includeArchived ? sql`` : sql`and s.status <> 'archived'`}
    order by s.updated_at desc
    limit ${filter.limit}`;
}

export async function isTeamMember(sql: Queryable, teamId: string, userId: string): Promise<boolean> {
  const [row] = await sql<
    { ok: boolean }[]
  >`select exists(select 1 from team_members where team_id = ${teamId} and user_id = ${userId}) as ok`;
  return row?.ok ?? false;
}

export async function teamPolicy(sql: Queryable, teamId: string | null): Promise<ApprovalPolicy | null> {
  if (!teamId) return null;
  const [row] = await sql<{ approval_policy: ApprovalPolicy | null }[]>`select approval_policy from teams where id = ${teamId}`;
  return row?.approval_policy ?? null;
}

export interface ApprovalRow {
  id: string;
  session_id: string;
  kind: 'permission' | 'question';
  tool: string;
  patterns: string[];
  title: string;
  status: string;
  approver: 'owner' | 'admin';
  expires_at: Date;
}

export async function insertApproval(sql: Queryable, approval: Omit<ApprovalRow, 'status'>): Promise<boolean> {
  const rows = await sql`
    insert into approvals (id, session_id, kind, tool, patterns, title, approver, expires_at)
    values (${approval.id}, ${approval.session_id}, ${approval.kind}, ${approval.tool}, ${sql.json(approval.patterns)}, ${approval.title},
            ${approval.approver}, ${approval.expires_at})
    on conflict (id) do nothing returning 1`;
  return rows.count === 1;
}

/**
 * Spends a person's allow of `tool` in this session (a `once` answer allows one use; `always`, every
 * use): what lets a proxied MCP call through when the policy asks about the tool.
 */
export async function spendApproval(sql: Queryable, sessionId: string, tool: string): Promise<boolean> {
  const rows = await sql`
    update approvals set used_at = coalesce(used_at, now())
    where id = (
      select id from approvals
      where session_id = ${sessionId} and kind = 'permission' and tool = ${tool}
        and (status = 'always' or (status = 'once' and used_at is null))
      order by decided_at desc limit 1
      for update skip locked)
    returning id`;
  return rows.count === 1;
}

export async function getApproval(sql: Queryable, id: string): Promise<ApprovalRow | undefined> {
  const [row] = await sql<ApprovalRow[]>`select * from approvals where id = ${id}`;
  return row;
}

/**
 * A person's answer to a pending ask of THEIR session: the session, the kind and the right to
 * allow are checked in the same UPDATE that decides it, so an answer naming another session's ask
 * changes nothing.
 */
export async function answerApproval(
  sql: Queryable,
  answer: {
    id: string;
    sessionId: string;
    kind: 'permission' | 'question';
    status: 'once' | 'always' | 'reject' | 'answered';
    userId: string;
    isAdmin: boolean;
  },
): Promise<ApprovalRow | undefined> {
  const mayAllow = answer.isAdmin || answer.status === 'reject';
  const [row] = await sql<ApprovalRow[]>`
    update approvals set status = ${answer.status}, decided_by = 'user', decided_by_user = ${answer.userId}, decided_at = now()
    where id = ${answer.id} and session_id = ${answer.sessionId} and kind = ${answer.kind} and status = 'pending'
      and (approver = 'owner' or ${mayAllow})
    returning *`;
  return row;
}

/** Decides a pending approval once; false when it was already decided (a reply and a timeout racing). */
export async function decideApproval(
  sql: Queryable,
  id: string,
  status: 'once' | 'always' | 'reject' | 'answered' | 'expired',
  by: 'user' | 'policy' | 'timeout' | 'system',
  userId: string | null,
): Promise<ApprovalRow | undefined> {
  const [row] = await sql<ApprovalRow[]>`
    update approvals set status = ${status}, decided_by = ${by}, decided_by_user = ${userId}, decided_at = now()
    where id = ${id} and status = 'pending'
    returning *`;
  return row;
}

/** Pending asks of the sessions whose workspaces live under `workspacesRoot` (this control plane's own). */
export function pendingApprovals(sql: Queryable, workspacesRoot: string): Promise<ApprovalRow[]> {
  return sql<ApprovalRow[]>`
    select a.* from approvals a join sessions s on s.id = a.session_id
    where a.status = 'pending' and starts_with(s.workspace_dir, ${workspacesRoot})
    order by a.expires_at`;
}

/** Sessions of this control plane (by workspace location) that were running a turn. */
export function runningSessions(sql: Queryable, workspacesRoot: string): Promise<{ id: string }[]> {
  return sql<{ id: string }[]>`
    select id from sessions where status in ('busy', 'retry') and starts_with(workspace_dir, ${workspacesRoot})`;
}
