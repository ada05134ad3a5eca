import { z } from 'zod';
import { Id, Timestamp } from './common.js';
import { SessionEventNotification, SessionStatus } from './session-events.js';

/**
 * The JSON-RPC method table between the extension and the control plane. Each entry names the
 * direction and the params/result schemas; both sides parse what they receive with them.
 * Later issues fill in the bodies; the names are the contract.
 */
export const Session = z.object({
  id: Id,
  userId: Id,
  teamId: Id.nullable(),
  title: z.string(),
  agent: z.string(),
  status: SessionStatus,
  lastSeq: z.number().int().nonnegative(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Session = z.infer<typeof Session>;

export const WorkspaceSource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('empty') }),
  z.object({ kind: z.literal('git'), url: z.string().min(1).max(2000), ref: z.string().max(200).optional() }),
  z.object({ kind: z.literal('upload'), uploadId: Id }),
]);
export type WorkspaceSource = z.infer<typeof WorkspaceSource>;

const Empty = z.strictObject({});

export const rpcRequests = {
  'session/create': {
    params: z.strictObject({
      title: z.string().trim().min(1).max(200),
      agent: z.string().max(100).optional(),
      teamId: Id.optional(),
      workspace: WorkspaceSource.default({ kind: 'empty' }),
    }),
    result: Session,
  },
  'session/list': {
    params: z.strictObject({ includeArchived: z.boolean().default(false) }),
    result: z.object({ items: z.array(Session) }),
  },
  'session/get': { params: z.strictObject({ sessionId: Id }), result: Session },
  'session/prompt': {
    params: z.strictObject({ sessionId: Id, text: z.string().min(1).max(200_000) }),
    result: z.object({ messageId: z.string() }),
  },
  'session/abort': { params: z.strictObject({ sessionId: Id }), result: z.object({ aborted: z.boolean() }) },
  'session/subscribe': {
    params: z.strictObject({ sessionId: Id, sinceSeq: z.number().int().nonnegative().default(0) }),
    result: z.object({ lastSeq: z.number().int().nonnegative() }),
  },
  'session/unsubscribe': { params: z.strictObject({ sessionId: Id }), result: Empty },
  'permission/reply': {
    params: z.strictObject({ sessionId: Id, permissionId: z.string().min(1), reply: z.enum(['once', 'always', 'reject']) }),
    result: Empty,
  },
  'budget/get': {
    params: Empty,
    result: z.object({
      budgets: z.array(
        z.object({
          scope: z.enum(['user', 'team']),
          period: z.enum(['day', 'week', 'month', 'total']),
          limitMicros: z.number().int().nonnegative(),
          spentMicros: z.number().int().nonnegative(),
          reservedMicros: z.number().int().nonnegative(),
        }),
      ),
    }),
  },
} as const;
export type RpcRequestMethod = keyof typeof rpcRequests;
export type RpcParams<M extends RpcRequestMethod> = z.input<(typeof rpcRequests)[M]['params']>;
export type RpcResult<M extends RpcRequestMethod> = z.infer<(typeof rpcRequests)[M]['result']>;

/** Notifications the control plane sends to the client. */
export const rpcServerNotifications = {
  'session/event': SessionEventNotification,
  /** The client fell too far behind: drop the stream and subscribe again from `lastSeq`. */
  'session/resubscribe': z.object({ sessionId: Id, lastSeq: z.number().int().nonnegative() }),
} as const;
export type RpcServerNotification = keyof typeof rpcServerNotifications;

export const RPC_METHODS = Object.keys(rpcRequests) as RpcRequestMethod[];
