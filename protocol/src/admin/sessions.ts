import { z } from 'zod';
import { Id, Timestamp, WorkspacePath } from '../common.js';
import { ApprovalPolicy, Session } from '../rpc.js';
import { SessionEventNotification } from '../session-events.js';

export const UploadFile = z.strictObject({
  path: WorkspacePath,
  /** File content, base64. */
  content: z.base64(),
  executable: z.boolean().default(false),
});
export type UploadFile = z.input<typeof UploadFile>;

export const CreateUploadBody = z.strictObject({ files: z.array(UploadFile).min(1).max(20_000) });
export type CreateUploadBody = z.input<typeof CreateUploadBody>;

export const Upload = z.object({ id: Id, files: z.number().int(), bytes: z.number().int(), expiresAt: Timestamp });
export type Upload = z.infer<typeof Upload>;

export const SessionListQuery = z.strictObject({
  userId: Id.optional(),
  includeArchived: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type SessionListQuery = z.infer<typeof SessionListQuery>;

export const SessionList = z.object({ items: z.array(Session) });
export type SessionList = z.infer<typeof SessionList>;

export const SessionEventsQuery = z.strictObject({
  sinceSeq: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(5000).default(1000),
});
export type SessionEventsQuery = z.infer<typeof SessionEventsQuery>;

export const SessionEventPage = z.object({ items: z.array(SessionEventNotification), lastSeq: z.number().int(), more: z.boolean() });
export type SessionEventPage = z.infer<typeof SessionEventPage>;

export const ApprovalPolicyBody = z.strictObject({ policy: ApprovalPolicy.nullable().describe('null restores the built-in default') });
export type ApprovalPolicyBody = z.infer<typeof ApprovalPolicyBody>;

export const ApprovalPolicyResult = z.object({ teamId: Id, policy: ApprovalPolicy.nullable(), effective: ApprovalPolicy });
export type ApprovalPolicyResult = z.infer<typeof ApprovalPolicyResult>;
