import type { AuthContext } from '../auth/auth-plugin.js';
import type { Sql } from '../db/client.js';
import { forbidden, notFound } from '../errors.js';
import * as repo from './session-repository.js';

/** Who may do what: owners and admins write; members of a session's team read it; others do not see it. */
export async function sessionAccess(
  deps: { sql: Sql },
  auth: AuthContext,
  sessionId: string,
  mode: 'read' | 'write',
): Promise<repo.SessionRow> {
  const row = await repo.getSession(deps.sql, sessionId);
  if (!row) throw notFound('Session');
  const { user } = auth;
  if (user.role === 'admin' || row.user_id === user.id) {
    if (mode === 'write' && user.role === 'viewer') throw forbidden('Viewers cannot run agents.');
    return row;
  }
  const teammate = row.team_id !== null && (await repo.isTeamMember(deps.sql, row.team_id, user.id));
  if (!teammate) throw notFound('Session');
  if (mode === 'write') throw forbidden('This session belongs to a teammate: you can follow it, not drive it.');
  return row;
}
