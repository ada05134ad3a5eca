import type { Role, User } from '@switchboard/protocol';
import type { Queryable } from '../db/client.js';

interface UserRow {
  id: string;
  email: string;
  display_name: string;
  role: Role;
  disabled: boolean;
  created_at: Date;
  updated_at: Date;
}

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    role: row.role,
    disabled: row.disabled,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export async function insertUser(sql: Queryable, user: { email: string; displayName: string; role: Role }): Promise<User> {
  const [row] = await sql<UserRow[]>`
    insert into users (email, display_name, role) values (${user.email}, ${user.displayName}, ${user.role})
    returning *`;
  return toUser(row as UserRow);
}

export async function getUser(sql: Queryable, id: string, { lock = false } = {}): Promise<User | undefined> {
  const [row] = await sql<UserRow[]>`select * from users where id = ${id} ${lock ? sql`for update` : sql``}`;
  return row && toUser(row);
}

export async function listUsers(
  sql: Queryable,
  query: { limit: number; after?: string | undefined; role?: Role | undefined; includeDisabled: boolean },
): Promise<User[]> {
  const rows = await sql<UserRow[]>`
    select * from users
    where true
      ${query.after ? sql`and lower(email) > ${query.after}` : sql``}
      ${query.role ? sql`and role = ${query.role}` : sql``}
      ${query.includeDisabled ? sql`` : sql`and not disabled`}
    order by lower(email)
    limit ${query.limit}`;
  return rows.map(toUser);
}

export async function updateUser(
  sql: Queryable,
  id: string,
  patch: { displayName?: string | undefined; role?: Role | undefined; disabled?: boolean | undefined },
): Promise<User | undefined> {
  const [row] = await sql<UserRow[]>`
    update users set
      display_name = coalesce(${patch.displayName ?? null}, display_name),
      role = coalesce(${patch.role ?? null}, role),
      disabled = coalesce(${patch.disabled ?? null}, disabled),
      updated_at = now()
    where id = ${id}
    returning *`;
  return row && toUser(row);
}

/** Locks every active admin row, so two admins cannot demote each other at the same moment. */
export async function lockActiveAdmins(sql: Queryable): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`select id from users where role = 'admin' and not disabled for update`;
  return rows.map((row) => row.id);
}

export async function countUsers(sql: Queryable): Promise<number> {
  const [row] = await sql<{ count: number }[]>`select count(*)::int as count from users`;
  return row?.count ?? 0;
}
