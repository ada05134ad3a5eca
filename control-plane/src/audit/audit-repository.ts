import type { Queryable, Sql } from '../db/client.js';
import type { Actor, AuditEntry } from './actions.js';
import { type ChainedRow, chainHash } from './chain.js';
import { redact } from './redact.js';

export interface AuditRow {
  id: bigint;
  at: Date;
  actor_type: string;
  actor_id: string | null;
  token_id: string | null;
  ip: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: string;
  payload: unknown;
  prev_hash: Buffer;
  hash: Buffer;
}

export interface AuditFilter {
  actorId?: string | undefined;
  action?: string | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  outcome?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  beforeId?: bigint | undefined;
}

export function toChainedRow(row: Pick<AuditRow, Exclude<keyof AuditRow, 'prev_hash' | 'hash'>>): ChainedRow {
  return {
    id: row.id.toString(),
    at: row.at.toISOString(),
    actorType: row.actor_type,
    actorId: row.actor_id,
    tokenId: row.token_id,
    ip: row.ip,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    outcome: row.outcome,
    payload: row.payload,
  };
}

/**
 * Appends rows to the chain inside the caller's transaction. Locking the head row serializes
 * appends until that transaction ends, so call this as the last statement of the change it records.
 */
export async function appendAuditRows(tx: Queryable, actor: Actor, entries: AuditEntry[]): Promise<bigint[]> {
  if (entries.length === 0) return [];
  const [head] = await tx<{ last_id: bigint; last_hash: Buffer }[]>`select last_id, last_hash from audit_head for update`;
  if (!head) throw new Error('audit_head is missing: the audit migration did not run');
  let prev: Buffer = head.last_hash;
  let id = head.last_id;
  const at = new Date();
  const rows = entries.map((entry) => {
    id += 1n;
    const row = {
      id,
      at,
      actor_type: actor.type,
      actor_id: actor.userId ?? null,
      token_id: actor.tokenId ?? null,
      ip: actor.ip ?? null,
      action: entry.action,
      target_type: entry.target?.type ?? null,
      target_id: entry.target?.id ?? null,
      outcome: entry.outcome ?? 'ok',
      payload: redact(entry.payload ?? {}) as Record<string, unknown>,
    };
    const hash = chainHash(prev, toChainedRow(row));
    const stored = { ...row, prev_hash: prev, hash };
    prev = hash;
    return stored;
  });
  await tx`
    insert into audit_events ${tx(
      rows.map((row) => ({ ...row, payload: tx.json(row.payload as never) })),
      'id',
      'at',
      'actor_type',
      'actor_id',
      'token_id',
      'ip',
      'action',
      'target_type',
      'target_id',
      'outcome',
      'payload',
      'prev_hash',
      'hash',
    )}`;
  await tx`update audit_head set last_id = ${id}, last_hash = ${prev}`;
  return rows.map((row) => row.id);
}

export async function queryAuditRows(sql: Sql, filter: AuditFilter, limit: number): Promise<AuditRow[]> {
  return sql<AuditRow[]>`
    select * from audit_events
    where true
      ${filter.beforeId !== undefined ? sql`and id < ${filter.beforeId}` : sql``}
      ${filter.actorId ? sql`and actor_id = ${filter.actorId}` : sql``}
      ${filter.action ? sql`and action like ${`${escapeLike(filter.action)}%`}` : sql``}
      ${filter.targetType ? sql`and target_type = ${filter.targetType}` : sql``}
      ${filter.targetId ? sql`and target_id = ${filter.targetId}` : sql``}
      ${filter.outcome ? sql`and outcome = ${filter.outcome}` : sql``}
      ${filter.from ? sql`and at >= ${filter.from}` : sql``}
      ${filter.to ? sql`and at < ${filter.to}` : sql``}
    order by id desc
    limit ${limit}`;
}

/**
 * Rows of a time range in chain order, a batch at a time, never the whole range in memory. Each
 * batch is its own short query after the last id seen (keyset paging), so an export read slowly
 * by its client holds no pool connection between batches.
 */
export async function* pagedAuditRows(sql: Sql, filter: AuditFilter, batch: number): AsyncGenerator<AuditRow[]> {
  let afterId = -1n;
  for (;;) {
    const rows = await sql<AuditRow[]>`
      select * from audit_events
      where id > ${afterId}
        ${filter.from ? sql`and at >= ${filter.from}` : sql``}
        ${filter.to ? sql`and at < ${filter.to}` : sql``}
        ${filter.action ? sql`and action like ${`${escapeLike(filter.action)}%`}` : sql``}
        ${filter.actorId ? sql`and actor_id = ${filter.actorId}` : sql``}
      order by id asc
      limit ${batch}`;
    if (rows.length > 0) yield rows;
    const last = rows.at(-1);
    if (!last || rows.length < batch) return;
    afterId = last.id;
  }
}

/**
 * Retention in the caller's transaction: removes the whole prefix of rows older than `before` (it
 * stops at the first newer row, so a clock that stepped back never takes a young row with it),
 * moves the retention point to the last removed row, and appends a checkpoint row whose seal
 * proves the removal went through these rules.
 */
export async function retainPrefix(
  tx: Queryable,
  actor: Actor,
  before: Date,
  seal: (throughId: bigint, hash: Buffer) => string,
): Promise<{ deleted: number; throughId: bigint | null }> {
  const [head] = await tx<{ last_id: bigint }[]>`select last_id from audit_head for update`;
  const [retention] = await tx<{ through_id: bigint }[]>`select through_id from audit_anchor`;
  if (!head || !retention) throw new Error('audit_head or audit_anchor is missing: the audit migration did not run');
  const [firstKept] = await tx<{ id: bigint }[]>`select id from audit_events where at >= ${before} order by id limit 1`;
  const throughId = firstKept ? firstKept.id - 1n : head.last_id;
  const [last] =
    throughId > retention.through_id ? await tx<{ hash: Buffer }[]>`select hash from audit_events where id = ${throughId}` : [];
  if (!last) {
    await appendAuditRows(tx, actor, [{ action: 'audit.retention', payload: { before, deleted: 0 } }]);
    return { deleted: 0, throughId: null };
  }
  await tx`select set_config('switchboard.audit_retention', 'on', true)`;
  const deleted = await tx`delete from audit_events where id <= ${throughId}`;
  await tx`update audit_anchor set through_id = ${throughId}, hash = ${last.hash}`;
  await tx`select set_config('switchboard.audit_retention', 'off', true)`;
  await appendAuditRows(tx, actor, [
    {
      action: 'audit.retention',
      payload: { before, deleted: deleted.count, throughId, anchorHash: last.hash.toString('hex'), seal: seal(throughId, last.hash) },
    },
  ]);
  return { deleted: deleted.count, throughId };
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (char) => `\\${char}`);
}
