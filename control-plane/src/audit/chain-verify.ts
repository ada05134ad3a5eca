import type { AuditVerifyResult } from '@switchboard/protocol';
import type { Sql } from '../db/client.js';
import type { ChainAnchor } from './anchor.js';
import { type AuditRow, toChainedRow } from './audit-repository.js';
import { chainHash, GENESIS_HASH } from './chain.js';

export interface VerifyOptions {
  batch?: number;
  /** The signed head exported earlier: the rows it covers must still be there, unchanged. */
  anchor?: ChainAnchor | undefined;
  /**
   * Recognises the seal of a retention row. With it, rows may only be missing before the
   * retention point when a sealed `audit.retention` row (or the anchor itself) vouches for it.
   */
  sealed?: ((throughId: bigint, hash: Buffer, seal: unknown) => boolean) | undefined;
  /** Check only the rows after the anchor (and the anchor row itself): before signing a newer head. */
  incremental?: boolean;
}

export type ChainCheck =
  | { ok: true; checked: number; head: { id: bigint; hash: Buffer }; retained: { id: bigint; hash: Buffer } }
  | { ok: false; checked: number; firstBadId?: string; reason: string };

export function toVerifyResult(check: ChainCheck): AuditVerifyResult {
  if (check.ok) return { ok: true, checked: check.checked };
  return check.firstBadId === undefined
    ? { ok: false, checked: check.checked, reason: check.reason }
    : { ok: false, checked: check.checked, firstBadId: check.firstBadId, reason: check.reason };
}

/** Recomputes the chain in one snapshot, from the retention point (or from the anchor, when incremental). */
export async function verifyChain(sql: Sql, options: VerifyOptions = {}): Promise<ChainCheck> {
  const { anchor, sealed, batch = 2000 } = options;
  return sql.begin('isolation level repeatable read read only', async (tx) => {
    const [retention] = await tx<{ through_id: bigint; hash: Buffer }[]>`select through_id, hash from audit_anchor`;
    const [head] = await tx<{ last_id: bigint; last_hash: Buffer }[]>`select last_id, last_hash from audit_head`;
    if (!retention || !head) return { ok: false, checked: 0, reason: 'The audit anchor or head row is missing.' };
    const retainedId = retention.through_id;
    const retainedHash = retainedId === 0n ? GENESIS_HASH : retention.hash;
    const signedAt = anchor ? ` signed at ${anchor.at.toISOString()}` : '';
    let checked = 0;
    const bad = (id: bigint, reason: string): ChainCheck => ({ ok: false, checked, firstBadId: id.toString(), reason });

    // Rows before the retention point are gone; that is allowed only when someone holding the key said so.
    let vouched =
      retainedId === 0n || !sealed || !anchor || (anchor.retainedThroughId === retainedId && anchor.retainedHash.equals(retainedHash));
    let afterId = retainedId;
    let prev: Buffer = retainedHash;
    if (options.incremental && anchor && anchor.throughId > retainedId) {
      const [row] = await tx<{ hash: Buffer }[]>`select hash from audit_events where id = ${anchor.throughId}`;
      if (!row) return bad(anchor.throughId, `Row ${anchor.throughId} is missing, though the anchor${signedAt} covers it.`);
      if (!row.hash.equals(anchor.hash)) {
        return bad(anchor.throughId, `Row ${anchor.throughId} no longer matches the anchor${signedAt}: the chain was rewritten.`);
      }
      afterId = anchor.throughId;
      prev = anchor.hash;
    }

    let expectedId = afterId + 1n;
    for await (const rows of tx<AuditRow[]>`select * from audit_events where id > ${afterId} order by id`.cursor(batch)) {
      for (const row of rows) {
        if (row.id !== expectedId) return bad(expectedId, `Row ${expectedId} is missing.`);
        if (!row.prev_hash.equals(prev)) return bad(row.id, `Row ${row.id} does not link to the row before it.`);
        if (!chainHash(prev, toChainedRow(row)).equals(row.hash)) return bad(row.id, `Row ${row.id} was changed after it was written.`);
        if (anchor && row.id === anchor.throughId && !row.hash.equals(anchor.hash)) {
          return bad(row.id, `Row ${row.id} no longer matches the anchor${signedAt}: the chain was rewritten.`);
        }
        if (!vouched && sealed && vouchesFor(row, retainedId, retainedHash, sealed)) vouched = true;
        prev = row.hash;
        expectedId += 1n;
        checked += 1;
      }
    }
    const lastId = expectedId - 1n;
    if (head.last_id !== lastId) return bad(expectedId, `Rows after ${lastId} are missing.`);
    if (!head.last_hash.equals(prev)) return bad(head.last_id, `Row ${head.last_id} does not match the chain head.`);
    if (anchor && anchor.throughId > lastId) {
      return bad(expectedId, `Rows ${expectedId} to ${anchor.throughId} are missing, though the anchor${signedAt} covers them.`);
    }
    if (!vouched) {
      return bad(
        (anchor?.retainedThroughId ?? 0n) + 1n,
        `Rows through ${retainedId} were removed without a sealed audit.retention record: they were deleted outside the retention rules.`,
      );
    }
    return { ok: true, checked, head: { id: head.last_id, hash: head.last_hash }, retained: { id: retainedId, hash: retainedHash } };
  });
}

function vouchesFor(
  row: AuditRow,
  throughId: bigint,
  hash: Buffer,
  sealed: (throughId: bigint, hash: Buffer, seal: unknown) => boolean,
): boolean {
  if (row.action !== 'audit.retention' || typeof row.payload !== 'object' || row.payload === null) return false;
  const payload = row.payload as Record<string, unknown>;
  return payload.throughId === throughId.toString() && payload.anchorHash === hash.toString('hex') && sealed(throughId, hash, payload.seal);
}
