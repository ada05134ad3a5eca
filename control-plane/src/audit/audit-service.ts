import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { AuditEvent, AuditVerifyResult } from '@switchboard/protocol';
import type { Queryable, Sql } from '../db/client.js';
import type { Logger } from '../logger.js';
import type { Actor, AuditEntry } from './actions.js';
import { type AuditFilter, type AuditRow, appendAuditRows, pagedAuditRows, queryAuditRows } from './audit-repository.js';
import { toVerifyResult, verifyChain } from './chain-verify.js';

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
        for await (const rows of pagedAuditRows(sql, filter, batch)) {
          yield rows.map((row) => `${JSON.stringify(toAuditEvent(row))}\n`).join('');
        }
      }
      return Readable.from(lines(), { objectMode: false });
    },

    /**
     * The chain as the database alone tells it. The verify route checks it against the signed
     * anchor as well (see integrity-service.ts): without that, deleting a whole trail goes unseen.
     */
    verify: async (batch = 2000): Promise<AuditVerifyResult> => toVerifyResult(await verifyChain(sql, { batch })),
  };
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
