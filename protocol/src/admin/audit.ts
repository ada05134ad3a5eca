import { z } from 'zod';
import { Id, Timestamp } from '../common.js';

export const AuditOutcome = z.enum(['ok', 'denied', 'error']);
export type AuditOutcome = z.infer<typeof AuditOutcome>;

/** Audit ids are 64-bit and gap-free; they travel as decimal strings so no client loses precision. */
export const AuditId = z.string().regex(/^\d{1,19}$/, 'Must be a decimal audit id');

export const AuditEvent = z.object({
  id: AuditId,
  at: Timestamp,
  actor: z.object({
    type: z.enum(['user', 'system', 'anonymous']),
    userId: Id.nullable(),
    tokenId: Id.nullable(),
    ip: z.string().nullable(),
  }),
  action: z.string(),
  target: z.object({ type: z.string(), id: z.string() }).nullable(),
  outcome: AuditOutcome,
  payload: z.record(z.string(), z.unknown()),
  prevHash: z.string(),
  hash: z.string(),
});
export type AuditEvent = z.infer<typeof AuditEvent>;

const ActionPrefix = z
  .string()
  .max(100)
  .regex(/^[a-z_.]+$/, 'Use lowercase letters, dots and underscores (an action or its prefix, e.g. "user." )');

export const AuditFilterQuery = z.strictObject({
  actorId: Id.optional(),
  action: ActionPrefix.optional().describe('Action or action prefix, e.g. `token.` or `user.create`'),
  targetType: z.string().max(50).optional(),
  targetId: z.string().max(200).optional(),
  outcome: AuditOutcome.optional(),
  from: Timestamp.optional().describe('Inclusive start time'),
  to: Timestamp.optional().describe('Exclusive end time'),
});

export const AuditQuery = AuditFilterQuery.extend({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: AuditId.optional().describe('`nextCursor` of the previous page'),
});
export type AuditQuery = z.infer<typeof AuditQuery>;

export const AuditPage = z.object({ items: z.array(AuditEvent), nextCursor: AuditId.nullable() });
export type AuditPage = z.infer<typeof AuditPage>;

export const AuditExportQuery = AuditFilterQuery.pick({ from: true, to: true, action: true, actorId: true });
export type AuditExportQuery = z.infer<typeof AuditExportQuery>;

export const AuditVerifyResult = z.object({
  ok: z.boolean(),
  checked: z.number().int().nonnegative(),
  firstBadId: AuditId.optional(),
  reason: z.string().optional(),
});
export type AuditVerifyResult = z.infer<typeof AuditVerifyResult>;

export const AuditRetentionBody = z.strictObject({
  before: Timestamp.describe('Remove every audit row older than this time (a whole prefix of the chain)'),
});
export type AuditRetentionBody = z.infer<typeof AuditRetentionBody>;

export const AuditRetentionResult = z.object({ deleted: z.number().int().nonnegative(), throughId: AuditId.nullable() });
export type AuditRetentionResult = z.infer<typeof AuditRetentionResult>;
