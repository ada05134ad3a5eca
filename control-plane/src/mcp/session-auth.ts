import type { AgentSpec } from '@switchboard/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Actor } from '../audit/actions.js';
import { SESSION_KEY_PREFIX } from '../gateway/session-keys.js';

/** The session behind an MCP request: whose it is and which agent version it runs. */
export interface McpSession {
  sessionId: string;
  userId: string;
  actor: Actor;
  agentId: string | null;
  spec: AgentSpec | undefined;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * MCP servers the control plane offers to sessions authenticate with the session's own key (the
 * one in its `opencode.json`): it dies with the session, and it names exactly one user and session.
 */
export async function sessionFromKey(app: FastifyInstance, request: FastifyRequest): Promise<McpSession | string> {
  const key = BEARER.exec(request.headers.authorization ?? '')?.[1];
  if (!key?.startsWith(SESSION_KEY_PREFIX)) return 'missing_session_key';
  const owner = await app.sessionKeys.lookup(key);
  if (!owner) return 'unknown_session_key';
  if (owner.disabled) return 'user_disabled';
  const [row] = await app.sql<{ agent_id: string | null; agent_version: number | null }[]>`
    select agent_id, agent_version from sessions where id = ${owner.sessionId}`;
  const spec = row?.agent_id && row.agent_version ? await app.agents.versionSpec(row.agent_id, row.agent_version) : undefined;
  return {
    sessionId: owner.sessionId,
    userId: owner.userId,
    actor: { type: 'user', userId: owner.userId, ip: request.ip },
    agentId: row?.agent_id ?? null,
    spec,
  };
}
