import type { ApprovalPolicy } from '@switchboard/protocol';
import type { AgentService } from '../agents/agent-service.js';
import type { Sql } from '../db/client.js';
import { DEFAULT_POLICY } from './policy.js';
import * as repo from './session-repository.js';

/**
 * The policy admins set for a session, which its user's own rules can only make stricter: the
 * policy of the agent version it runs, else its team's, else the built-in one. Read when each
 * tool use is decided, so a team policy made stricter applies to running sessions at once.
 */
export async function ceilingPolicy(
  deps: { sql: Sql; agents: Pick<AgentService, 'versionSpec'> },
  row: Pick<repo.SessionRow, 'agent_id' | 'agent_version' | 'team_id'>,
): Promise<ApprovalPolicy> {
  if (row.agent_id && row.agent_version !== null) {
    const spec = await deps.agents.versionSpec(row.agent_id, row.agent_version);
    if (spec?.toolPolicy) return spec.toolPolicy;
  }
  return (await repo.teamPolicy(deps.sql, row.team_id)) ?? DEFAULT_POLICY;
}
