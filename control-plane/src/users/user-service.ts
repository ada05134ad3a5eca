import type { CreateUserBody, ListUsersQuery, UpdateUserBody, User } from '@switchboard/protocol';
import type { Actor } from '../audit/actions.js';
import type { AuditService } from '../audit/audit-service.js';
import { announceAccessChange } from '../auth/access-changes.js';
import type { Sql } from '../db/client.js';
import { isUniqueViolation } from '../db/errors.js';
import { conflict, notFound } from '../errors.js';
import { getUser, insertUser, listUsers, lockActiveAdmins, updateUser } from './user-repository.js';

export type UserService = ReturnType<typeof createUserService>;

export function createUserService({ sql, audit }: { sql: Sql; audit: AuditService }) {
  return {
    async create(actor: Actor, body: CreateUserBody & { role: User['role'] }): Promise<User> {
      try {
        return await sql.begin(async (tx) => {
          const user = await insertUser(tx, body);
          await audit.record(tx, actor, {
            action: 'user.create',
            target: { type: 'user', id: user.id },
            payload: { email: user.email, displayName: user.displayName, role: user.role },
          });
          return user;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict(`A user with the email ${body.email} already exists.`);
        throw error;
      }
    },

    async list(query: ListUsersQuery): Promise<{ items: User[]; nextCursor: string | null }> {
      const after = query.cursor ? decodeCursor(query.cursor) : undefined;
      const rows = await listUsers(sql, {
        limit: query.limit + 1,
        after,
        role: query.role,
        includeDisabled: query.includeDisabled ?? false,
      });
      const items = rows.slice(0, query.limit);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > query.limit && last ? encodeCursor(last.email) : null };
    },

    async get(id: string): Promise<User> {
      const user = await getUser(sql, id);
      if (!user) throw notFound('User');
      return user;
    },

    async update(actor: Actor, id: string, patch: UpdateUserBody): Promise<User> {
      return sql.begin(async (tx) => {
        const admins = await lockActiveAdmins(tx);
        const before = await getUser(tx, id, { lock: true });
        if (!before) throw notFound('User');
        const losesAdmin =
          before.role === 'admin' && !before.disabled && ((patch.role && patch.role !== 'admin') || patch.disabled === true);
        if (losesAdmin && admins.filter((adminId) => adminId !== id).length === 0) {
          throw conflict('This is the last active admin. Make another user admin first.');
        }
        const after = await updateUser(tx, id, patch);
        if (!after) throw notFound('User');
        const changes: Record<string, { from: unknown; to: unknown }> = {};
        for (const key of ['displayName', 'role', 'disabled'] as const) {
          if (before[key] !== after[key]) changes[key] = { from: before[key], to: after[key] };
        }
        await audit.record(tx, actor, { action: 'user.update', target: { type: 'user', id }, payload: { changes } });
        if (changes.role || changes.disabled) await announceAccessChange(tx, { userId: id });
        return after;
      });
    },
  };
}

const encodeCursor = (email: string) => Buffer.from(email.toLowerCase()).toString('base64url');
function decodeCursor(cursor: string): string {
  return Buffer.from(cursor, 'base64url').toString('utf8');
}
