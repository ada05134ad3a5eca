import type { Queryable } from '../db/client.js';
import type { AuthContext } from './auth-plugin.js';
import { findByHash, userFromRow } from './token-repository.js';
import { hashToken } from './tokens.js';

export type TokenDenial = 'unknown_token' | 'revoked_token' | 'expired_token' | 'user_disabled';

/**
 * The one rule for whether an API token may act, shared by REST, the gateway and the WebSocket:
 * it must exist, be neither revoked nor expired, and belong to an enabled user.
 */
export async function verifyToken(
  sql: Queryable,
  token: string,
): Promise<{ ok: true; auth: AuthContext; lastUsedAt: Date | null } | { ok: false; reason: TokenDenial }> {
  const row = await findByHash(sql, hashToken(token));
  if (!row) return { ok: false, reason: 'unknown_token' };
  if (row.revoked_at) return { ok: false, reason: 'revoked_token' };
  if (row.expires_at && row.expires_at.getTime() <= Date.now()) return { ok: false, reason: 'expired_token' };
  if (row.disabled) return { ok: false, reason: 'user_disabled' };
  return { ok: true, auth: { user: userFromRow(row), tokenId: row.token_id }, lastUsedAt: row.last_used_at };
}
