import type { MemoryNote } from '@switchboard/protocol';
import type { Queryable } from '../db/client.js';

export interface MemoryRow {
  agent_id: string;
  user_id: string;
  key: string;
  content: string;
  bytes: number;
  created_at: Date;
  updated_at: Date;
}

export function toNote(row: MemoryRow): MemoryNote {
  return {
    agentId: row.agent_id,
    userId: row.user_id,
    key: row.key,
    content: row.content,
    bytes: row.bytes,
    updatedAt: row.updated_at.toISOString(),
  };
}

/** Serializes the writes of one agent and user, so the total-size check cannot be raced past. */
export async function lockNotes(sql: Queryable, agentId: string, userId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`memory:${agentId}:${userId}`}, 0))`;
}

export function listNotes(sql: Queryable, agentId: string, userId: string): Promise<MemoryRow[]> {
  return sql<MemoryRow[]>`select * from agent_memories where agent_id = ${agentId} and user_id = ${userId} order by key`;
}

export async function getNote(sql: Queryable, agentId: string, userId: string, key: string): Promise<MemoryRow | undefined> {
  const [row] = await sql<MemoryRow[]>`
    select * from agent_memories where agent_id = ${agentId} and user_id = ${userId} and key = ${key}`;
  return row;
}

export async function usedBytes(sql: Queryable, agentId: string, userId: string): Promise<number> {
  const [row] = await sql<{ used: number }[]>`
    select coalesce(sum(bytes), 0)::int as used from agent_memories where agent_id = ${agentId} and user_id = ${userId}`;
  return row?.used ?? 0;
}

export async function upsertNote(
  sql: Queryable,
  note: { agentId: string; userId: string; key: string; content: string; bytes: number },
): Promise<MemoryRow> {
  const [row] = await sql<MemoryRow[]>`
    insert into agent_memories (agent_id, user_id, key, content, bytes)
    values (${note.agentId}, ${note.userId}, ${note.key}, ${note.content}, ${note.bytes})
    on conflict (agent_id, user_id, key) do update set content = excluded.content, bytes = excluded.bytes, updated_at = now()
    returning *`;
  return row as MemoryRow;
}

export async function deleteNote(sql: Queryable, agentId: string, userId: string, key: string): Promise<boolean> {
  const result = await sql`delete from agent_memories where agent_id = ${agentId} and user_id = ${userId} and key = ${key}`;
  return result.count === 1;
}
