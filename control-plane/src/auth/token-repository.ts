import type { ApiToken, Role, User } from '@switchboard/protocol';
import type { Queryable } from '../db/client.js';

interface TokenRow {
  id: string;
  user_id: string;
  name: string;
  hint: string;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface AuthenticatedRow {
  token_id: string;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  user_id: string;
  email: string;
  display_name: string;
  role: Role;
  disabled: boolean;
  user_created_at: Date;
  user_updated_at: Date;
}

export function toApiToken(row: TokenRow): ApiToken {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    hint: row.hint,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at?.toISOString() ?? null,
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
  };
}

export async function findByHash(sql: Queryable, hash: Buffer): Promise<AuthenticatedRow | undefined> {
  const [row] = await sql<AuthenticatedRow[]>`
    select t.id as token_id, t.expires_at, t.revoked_at, t.last_used_at,
           u.id as user_id, u.email, u.display_name, u.role, u.disabled,
           u.created_at as user_created_at, u.updated_at as user_updated_at
    from api_tokens t join users u on u.id = t.user_id
    where t.token_hash = ${hash}`;
  return row;
}

/** Throttled to once a minute per token, so authentication does not write on every request. */
export async function touchLastUsed(sql: Queryable, tokenId: string): Promise<void> {
  await sql`
    update api_tokens set last_used_at = now()
    where id = ${tokenId} and (last_used_at is null or last_used_at < now() - interval '1 minute')`;
}

export async function insertToken(
  sql: Queryable,
  token: { userId: string; name: string; hash: Buffer; hint: string; createdBy: string | null; expiresAt: Date | null },
): Promise<ApiToken> {
  const [row] = await sql<TokenRow[]>`
    insert into api_tokens (user_id, name, token_hash, hint, created_by, expires_at)
    values (${token.userId}, ${token.name}, ${token.hash}, ${token.hint}, ${token.createdBy}, ${token.expiresAt})
    returning id, user_id, name, hint, created_at, expires_at, last_used_at, revoked_at`;
  return toApiToken(row as TokenRow);
}

export async function listTokens(sql: Queryable, userId: string, includeRevoked: boolean): Promise<ApiToken[]> {
  const rows = await sql<TokenRow[]>`
    select id, user_id, name, hint, created_at, expires_at, last_used_at, revoked_at
    from api_tokens
    where user_id = ${userId} ${includeRevoked ? sql`` : sql`and revoked_at is null`}
    order by created_at desc, id`;
  return rows.map(toApiToken);
}

export async function getToken(sql: Queryable, id: string): Promise<ApiToken | undefined> {
  const [row] = await sql<TokenRow[]>`
    select id, user_id, name, hint, created_at, expires_at, last_used_at, revoked_at from api_tokens where id = ${id}`;
  return row && toApiToken(row);
}

/** Revokes a live token; `undefined` when it does not exist or was already revoked. */
export async function revokeToken(sql: Queryable, id: string): Promise<ApiToken | undefined> {
  const [row] = await sql<TokenRow[]>`
    update api_tokens set revoked_at = now()
    where id = ${id} and revoked_at is null
    returning id, user_id, name, hint, created_at, expires_at, last_used_at, revoked_at`;
  return row && toApiToken(row);
}

export function userFromRow(row: AuthenticatedRow): User {
  return {
    id: row.user_id,
    email: row.email,
    displayName: row.display_name,
    role: row.role,
    disabled: row.disabled,
    createdAt: row.user_created_at.toISOString(),
    updatedAt: row.user_updated_at.toISOString(),
  };
}
