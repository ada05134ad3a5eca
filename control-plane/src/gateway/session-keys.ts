import { createHash, randomBytes } from 'node:crypto';
import type { Actor } from '../audit/actions.js';
import type { AuditService } from '../audit/audit-service.js';
import type { Queryable, Sql } from '../db/client.js';

/** Per-session gateway keys: the harness's only credential, bound to one user and one session. */
export const SESSION_KEY_PREFIX = 'sbk_';

export interface SessionKeyOwner {
  keyId: string;
  userId: string;
  sessionId: string;
  disabled: boolean;
}

export const hashKey = (key: string) => createHash('sha256').update(key).digest();

export type SessionKeyService = ReturnType<typeof createSessionKeyService>;

export function createSessionKeyService({ sql, audit }: { sql: Sql; audit: AuditService }) {
  return {
    /** Issues a key inside the caller's transaction (the session's creation). The key is returned once. */
    async issue(tx: Queryable, actor: Actor, userId: string, sessionId: string): Promise<{ id: string; key: string }> {
      const key = `${SESSION_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
      const [row] = await tx<{ id: string }[]>`
        insert into session_keys (user_id, session_id, key_hash, hint)
        values (${userId}, ${sessionId}, ${hashKey(key)}, ${key.slice(0, SESSION_KEY_PREFIX.length + 4)})
        returning id`;
      const id = row?.id as string;
      await audit.record(tx, actor, {
        action: 'session_key.create',
        target: { type: 'session', id: sessionId },
        payload: { keyId: id, userId },
      });
      return { id, key };
    },

    /** Revokes every live key of a session (deleted or archived); returns how many. */
    async revokeForSession(tx: Queryable, actor: Actor, sessionId: string): Promise<number> {
      const rows = await tx`update session_keys set revoked_at = now() where session_id = ${sessionId} and revoked_at is null returning id`;
      if (rows.count > 0) {
        await audit.record(tx, actor, {
          action: 'session_key.revoke',
          target: { type: 'session', id: sessionId },
          payload: { keys: rows.count },
        });
      }
      return rows.count;
    },

    /** The owner of a live key, or undefined for unknown and revoked keys. */
    async lookup(key: string): Promise<SessionKeyOwner | undefined> {
      const [row] = await sql<{ id: string; user_id: string; session_id: string; disabled: boolean }[]>`
        select k.id, k.user_id, k.session_id, u.disabled
        from session_keys k join users u on u.id = k.user_id
        where k.key_hash = ${hashKey(key)} and k.revoked_at is null`;
      return row && { keyId: row.id, userId: row.user_id, sessionId: row.session_id, disabled: row.disabled };
    },

    /** Who an OpenCode session id (main or subagent) belongs to, once the harness has registered it. */
    async harnessSessionOwner(harnessSessionId: string): Promise<{ userId: string; sessionId: string } | undefined> {
      const [row] = await sql<{ user_id: string; session_id: string }[]>`
        select user_id, session_id from harness_sessions where harness_session_id = ${harnessSessionId}`;
      return row && { userId: row.user_id, sessionId: row.session_id };
    },
  };
}
