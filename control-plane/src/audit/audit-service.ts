import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { AuditEvent, AuditVerifyResult } from '@switchboard/protocol';
import type { Queryable, Sql } from '../db/client.js';
import type { Logger } from '../logger.js';
import type { Actor, AuditEntry } from './actions.js';
import { type AuditFilter, type AuditRow, appendAuditRows, cursorAuditRows, queryAuditRows, toChainedRow } from './audit-repository.js';
import { chainHash, GENESIS_HASH } from './chain.js';

export interface AuditServiceOptions {
  sql: Sql;
  log: Logger;
  prompts: 'full' | 'hash';
}

export type AuditService = ReturnType<typeof createAuditService>;

export function createAuditService({ sql, log, prompts }: AuditServiceOptions) {
  return {
    /** Records one row in the caller's transaction: the change and its row commit or vanish together. */
    async record(tx: Queryable, actor: Actor, entry: AuditEntry): Promise<bigint> {
      const [id] = await appendAuditRows(tx, actor, [entry]);
      return id as bigint;
    },

    /** Records many rows in the caller's transaction with one head lock and one insert. */
    recordMany(tx: Queryable, actor: Actor, entries: AuditEntry[]): Promise<bigint[]> {
      return appendAuditRows(tx, actor, entries);
    },

    /**
     * Records a row on its own, for attempts that change nothing (denied, failed). A failure to
     * write it is logged, never turned into a second error for the caller.
     */
    async recordAlone(actor: Actor, entry: AuditEntry): Promise<void> {
      try {
        await sql.begin((tx) => appendAuditRows(tx, actor, [entry]));
      } catch (error) {
        log.error({ err: error, action: entry.action }, 'could not write audit row');
      }
    },

    /** Prompt text as the audit trail keeps it: whole, or only its SHA-256 and length. */
    promptPayload(text: string): Record<string, unknown> {
      if (prompts === 'full') return { prompt: text, length: text.length };
      return { promptSha256: createHash('sha256').update(text).digest('hex'), length: text.length };
    },

    async query(filter: AuditFilter, limit: number): Promise<{ items: AuditEvent[]; nextCursor: string | null }> {
      const rows = await queryAuditRows(sql, filter, limit + 1);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return { items: page.map(toAuditEvent), nextCursor: rows.length > limit && last ? last.id.toString() : null };
    },

    /** A JSON Lines stream of the range, read through a cursor so memory stays flat for any size. */
    exportLines(filter: AuditFilter, batch = 500): Readable {
      async function* lines() {
        for await (const rows of cursorAuditRows(sql, filter, batch)) {
          yield rows.map((row) => `${JSON.stringify(toAuditEvent(row))}\n`).join('');
        }
      }
      return Readable.from(lines(), { objectMode: false });
    },

    verify: (batch = 2000) => verifyChain(sql, batch),

    /**
     * Retention: removes every row older than `before` (a whole prefix of the chain), moves the
     * anchor to the last removed row and records the checkpoint as a new row, in one transaction.
     */
    async retain(actor: Actor, before: Date): Promise<{ deleted: number; throughId: bigint | null }> {
      return sql.begin(async (tx) => {
        await tx`select 1 from audit_head for update`;
        const [last] = await tx<{ id: bigint; hash: Buffer }[]>`
          select id, hash from audit_events where at < ${before} order by id desc limit 1`;
        if (!last) {
          await appendAuditRows(tx, actor, [{ action: 'audit.retention', payload: { before, deleted: 0 } }]);
          return { deleted: 0, throughId: null };
        }
        await tx`select set_config('switchboard.audit_retention', 'on', true)`;
        const deleted = await tx`delete from audit_events where id <= ${last.id}`;
        await tx`update audit_anchor set through_id = ${last.id}, hash = ${last.hash}`;
        await tx`select set_config('switchboard.audit_retention', 'off', true)`;
        await appendAuditRows(tx, actor, [
          {
            action: 'audit.retention',
            payload: { before, deleted: deleted.count, throughId: last.id, anchorHash: last.hash.toString('hex') },
          },
        ]);
        return { deleted: deleted.count, throughId: last.id };
      });
    },
  };
}

async function verifyChain(sql: Sql, batch: number): Promise<AuditVerifyResult> {
  return sql.begin('isolation level repeatable read read only', async (tx) => {
    const [anchor] = await tx<{ through_id: bigint; hash: Buffer }[]>`select through_id, hash from audit_anchor`;
    const [head] = await tx<{ last_id: bigint; last_hash: Buffer }[]>`select last_id, last_hash from audit_head`;
    if (!anchor || !head) return { ok: false, checked: 0, reason: 'The audit anchor or head row is missing.' };
    let expectedId = anchor.through_id + 1n;
    let prev: Buffer = anchor.through_id === 0n ? GENESIS_HASH : anchor.hash;
    let checked = 0;
    const bad = (id: bigint, reason: string) => ({ ok: false, checked, firstBadId: id.toString(), reason });
    for await (const rows of tx<AuditRow[]>`select * from audit_events order by id`.cursor(batch)) {
      for (const row of rows) {
        if (row.id !== expectedId) return bad(expectedId, `Row ${expectedId} is missing.`);
        if (!row.prev_hash.equals(prev)) return bad(row.id, `Row ${row.id} does not link to the row before it.`);
        if (!chainHash(prev, toChainedRow(row)).equals(row.hash)) return bad(row.id, `Row ${row.id} was changed after it was written.`);
        prev = row.hash;
        expectedId += 1n;
        checked += 1;
      }
    }
    if (head.last_id !== expectedId - 1n) return bad(expectedId, `Rows after ${expectedId - 1n} are missing.`);
    if (!head.last_hash.equals(prev)) return bad(head.last_id, `Row ${head.last_id} does not match the chain head.`);
    return { ok: true, checked };
  });
}

export function toAuditEvent(row: AuditRow): AuditEvent {
  return {
    id: row.id.toString(),
    at: row.at.toISOString(),
    actor: { type: row.actor_type as AuditEvent['actor']['type'], userId: row.actor_id, tokenId: row.token_id, ip: row.ip },
    action: row.action,
    target: row.target_type && row.target_id ? { type: row.target_type, id: row.target_id } : null,
    outcome: row.outcome as AuditEvent['outcome'],
    payload: (row.payload ?? {}) as Record<string, unknown>,
    prevHash: row.prev_hash.toString('hex'),
    hash: row.hash.toString('hex'),
  };
}
