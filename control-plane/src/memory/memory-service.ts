import type { MemoryList, MemoryNote } from '@switchboard/protocol';
import type { AgentService } from '../agents/agent-service.js';
import type { Actor } from '../audit/actions.js';
import type { AuditService } from '../audit/audit-service.js';
import type { AuthContext } from '../auth/auth-plugin.js';
import type { Sql } from '../db/client.js';
import { AppError, forbidden, notFound } from '../errors.js';
import { checkMemoryWrite, type MemoryLimits, utf8Bytes } from './limits.js';
import * as repo from './memory-repository.js';

export type MemoryService = ReturnType<typeof createMemoryService>;

/** Whose notes a call reads or writes, and from where: a person (REST, VS Code) or the agent in a session. */
export interface MemoryOwner {
  agentId: string;
  userId: string;
  via: 'user' | 'agent';
  sessionId?: string | undefined;
}

/**
 * Durable notes per agent and user. The agent reads and writes them through the control plane's
 * MCP server; people see and edit the same notes over REST and from VS Code. Every change is
 * audited (size and key, never the content) and bounded by the per-note and per-owner limits.
 */
export function createMemoryService({
  sql,
  audit,
  agents,
  limits,
}: {
  sql: Sql;
  audit: AuditService;
  agents: AgentService;
  limits: MemoryLimits;
}) {
  /** The caller's own notes of an agent they can see; admins may name another user. */
  async function ownerFor(auth: AuthContext, agentId: string, userId?: string): Promise<MemoryOwner> {
    await agents.get(auth, agentId);
    if (userId && userId !== auth.user.id && auth.user.role !== 'admin') throw forbidden('Only admins can see other users’ notes.');
    return { agentId, userId: userId ?? auth.user.id, via: 'user' };
  }

  const core = {
    async list(owner: MemoryOwner): Promise<MemoryList> {
      const rows = await repo.listNotes(sql, owner.agentId, owner.userId);
      return {
        items: rows.map(repo.toNote),
        usedBytes: rows.reduce((sum, row) => sum + row.bytes, 0),
        limitBytes: limits.totalBytes,
        noteLimitBytes: limits.noteBytes,
      };
    },

    async read(owner: MemoryOwner, key: string): Promise<MemoryNote> {
      const row = await repo.getNote(sql, owner.agentId, owner.userId, key);
      if (!row) throw notFound(`The note "${key}"`);
      return repo.toNote(row);
    },

    async write(actor: Actor, owner: MemoryOwner, key: string, content: string): Promise<{ note: MemoryNote; usedBytes: number }> {
      const bytes = utf8Bytes(content);
      return sql.begin(async (tx) => {
        await repo.lockNotes(tx, owner.agentId, owner.userId);
        const previous = await repo.getNote(tx, owner.agentId, owner.userId, key);
        const used = await repo.usedBytes(tx, owner.agentId, owner.userId);
        const check = checkMemoryWrite({ limits, usedBytes: used, previousBytes: previous?.bytes ?? 0, bytes });
        if (!check.ok) throw new AppError('PAYLOAD_TOO_LARGE', check.message, { limit: check.reason });
        const row = await repo.upsertNote(tx, { agentId: owner.agentId, userId: owner.userId, key, content, bytes });
        await audit.record(tx, actor, {
          action: 'memory.write',
          target: { type: 'agent', id: owner.agentId },
          payload: { userId: owner.userId, key, bytes, created: previous === undefined, via: owner.via, sessionId: owner.sessionId },
        });
        return { note: repo.toNote(row), usedBytes: check.usedAfter };
      });
    },

    async remove(actor: Actor, owner: MemoryOwner, key: string): Promise<void> {
      await sql.begin(async (tx) => {
        await repo.lockNotes(tx, owner.agentId, owner.userId);
        if (!(await repo.deleteNote(tx, owner.agentId, owner.userId, key))) throw notFound(`The note "${key}"`);
        await audit.record(tx, actor, {
          action: 'memory.delete',
          target: { type: 'agent', id: owner.agentId },
          payload: { userId: owner.userId, key, via: owner.via, sessionId: owner.sessionId },
        });
      });
    },
  };

  return {
    /** For the agent's own MCP server, which has already established the session's agent and user. */
    core,
    limits,
    list: async (auth: AuthContext, agentId: string, userId?: string) => core.list(await ownerFor(auth, agentId, userId)),
    read: async (auth: AuthContext, agentId: string, key: string, userId?: string) => core.read(await ownerFor(auth, agentId, userId), key),
    async put(auth: AuthContext, actor: Actor, agentId: string, key: string, content: string, userId?: string): Promise<MemoryNote> {
      if (auth.user.role === 'viewer') throw forbidden('Viewers cannot change notes.');
      return (await core.write(actor, await ownerFor(auth, agentId, userId), key, content)).note;
    },
    async remove(auth: AuthContext, actor: Actor, agentId: string, key: string, userId?: string): Promise<void> {
      if (auth.user.role === 'viewer') throw forbidden('Viewers cannot change notes.');
      await core.remove(actor, await ownerFor(auth, agentId, userId), key);
    },
  };
}
