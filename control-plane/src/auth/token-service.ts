import type { ApiToken, CreatedToken, CreateTokenBody } from '@switchboard/protocol';
import type { Actor } from '../audit/actions.js';
import type { AuditService } from '../audit/audit-service.js';
import type { Sql } from '../db/client.js';
import { AppError, conflict, forbidden, notFound } from '../errors.js';
import { getUser } from '../users/user-repository.js';
import { announceAccessChange } from './access-changes.js';
import type { AuthContext } from './auth-plugin.js';
import { getToken, insertToken, listTokens, revokeToken } from './token-repository.js';
import { generateToken } from './tokens.js';

export type TokenService = ReturnType<typeof createTokenService>;

const DAY_MS = 86_400_000;

export function createTokenService({ sql, audit }: { sql: Sql; audit: AuditService }) {
  /** Members and viewers act on their own tokens; admins on anyone's; viewers may read anyone's. */
  function ownerFor(auth: AuthContext, userId: string | undefined, access: 'read' | 'write'): string {
    if (!userId || userId === auth.user.id) return auth.user.id;
    const allowed = auth.user.role === 'admin' || (access === 'read' && auth.user.role === 'viewer');
    if (!allowed) throw forbidden('Only admins can manage tokens of other users.');
    return userId;
  }

  return {
    async create(auth: AuthContext, actor: Actor, body: CreateTokenBody): Promise<CreatedToken> {
      const userId = ownerFor(auth, body.userId, 'write');
      return sql.begin(async (tx) => {
        const owner = await getUser(tx, userId, { lock: true });
        if (!owner) throw notFound('User');
        if (owner.disabled) throw conflict('This user is disabled; enable them before creating tokens.');
        const secret = generateToken();
        const expiresAt = body.expiresInDays ? new Date(Date.now() + body.expiresInDays * DAY_MS) : null;
        const token = await insertToken(tx, {
          userId,
          name: body.name,
          hash: secret.hash,
          hint: secret.hint,
          createdBy: auth.user.id,
          expiresAt,
        });
        await audit.record(tx, actor, {
          action: 'token.create',
          target: { type: 'token', id: token.id },
          payload: { userId, name: token.name, hint: token.hint, expiresAt: token.expiresAt },
        });
        return { ...token, token: secret.token };
      });
    },

    async list(auth: AuthContext, userId: string | undefined, includeRevoked: boolean): Promise<ApiToken[]> {
      return listTokens(sql, ownerFor(auth, userId, 'read'), includeRevoked);
    },

    async revoke(auth: AuthContext, actor: Actor, id: string): Promise<ApiToken> {
      return sql.begin(async (tx) => {
        const existing = await getToken(tx, id);
        // Someone else's token is reported as absent, so ids cannot be probed.
        if (!existing || (existing.userId !== auth.user.id && auth.user.role !== 'admin')) throw notFound('Token');
        if (existing.revokedAt) throw new AppError('CONFLICT', 'This token is already revoked.');
        const revoked = await revokeToken(tx, id);
        if (!revoked) throw new AppError('CONFLICT', 'This token is already revoked.');
        await audit.record(tx, actor, {
          action: 'token.revoke',
          target: { type: 'token', id },
          payload: { userId: revoked.userId, name: revoked.name, hint: revoked.hint },
        });
        await announceAccessChange(tx, { tokenId: id });
        return revoked;
      });
    },
  };
}
