import type { AuditVerifyResult } from '@switchboard/protocol';
import type { Sql } from '../db/client.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Actor } from './actions.js';
import type { AnchorStore } from './anchor.js';
import { retainPrefix } from './audit-repository.js';
import { type ChainCheck, toVerifyResult, verifyChain } from './chain-verify.js';

const DAY_MS = 86_400_000;

export interface AuditIntegrityOptions {
  sql: Sql;
  log: Logger;
  anchors: AnchorStore;
  minRetentionDays: number;
  clock?: () => Date;
}

export type AuditIntegrity = ReturnType<typeof createAuditIntegrity>;

/**
 * The rules that keep the trail whole against someone who can write SQL: verify checks the rows
 * against a signed anchor kept outside the database, the anchor only moves forward over rows that
 * verified, and retention removes only rows older than the minimum age, with a sealed checkpoint.
 */
export function createAuditIntegrity({ sql, log, anchors, minRetentionDays, clock = () => new Date() }: AuditIntegrityOptions) {
  // One anchor writer per process: each signs only what it verified against the anchor before it.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => undefined);
    return run;
  };

  async function checkAndSign(incremental: boolean): Promise<AuditVerifyResult> {
    const stored = await anchors.read();
    if (stored.state === 'bad') return { ok: false, checked: 0, reason: stored.reason };
    const anchor = stored.state === 'ok' ? stored.anchor : undefined;
    const check: ChainCheck = await verifyChain(sql, { anchor, sealed: anchors.sealed, incremental });
    if (!check.ok) return toVerifyResult(check);
    if (!anchor || check.head.id > anchor.throughId || check.retained.id !== anchor.retainedThroughId) {
      const next = {
        throughId: check.head.id,
        hash: check.head.hash,
        retainedThroughId: check.retained.id,
        retainedHash: check.retained.hash,
      };
      await anchors
        .write({ ...next, at: clock() })
        .catch((error: unknown) => log.error({ err: error, file: anchors.file }, 'could not write the audit anchor'));
    }
    return toVerifyResult(check);
  }

  return {
    /** The whole chain, from the retention point, against the anchor; a chain that verifies becomes the new anchor. */
    verify: (): Promise<AuditVerifyResult> => serial(() => checkAndSign(false)),

    /** Checks the rows written since the anchor and signs the new head: the periodic export. */
    advance: (): Promise<AuditVerifyResult> => serial(() => checkAndSign(true)),

    async retain(actor: Actor, before: Date): Promise<{ deleted: number; throughId: bigint | null }> {
      const cutoff = new Date(clock().getTime() - minRetentionDays * DAY_MS);
      if (before.getTime() > cutoff.getTime()) {
        throw new AppError(
          'BAD_REQUEST',
          `Audit rows are kept at least ${minRetentionDays} days (SWITCHBOARD_AUDIT_MIN_RETENTION_DAYS): "before" must be ${cutoff.toISOString()} or earlier.`,
          { minRetentionDays, latestBefore: cutoff.toISOString() },
        );
      }
      return serial(async () => {
        // Never remove rows from a chain that does not verify: that would destroy the evidence. The
        // whole chain, not only what came after the anchor, since these are the rows about to go.
        const checked = await checkAndSign(false);
        if (!checked.ok) {
          throw new AppError(
            'CONFLICT',
            `The audit trail does not verify, so nothing was removed: ${checked.reason} Check GET /api/v1/audit/verify.`,
          );
        }
        const result = await sql.begin((tx) => retainPrefix(tx, actor, before, anchors.seal));
        const after = await checkAndSign(true);
        if (!after.ok) log.error({ reason: after.reason, firstBadId: after.firstBadId }, 'the audit trail does not verify after retention');
        return result;
      });
    },
  };
}
