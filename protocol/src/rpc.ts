import { z } from 'zod';
import { Budget } from './admin/budgets.js';
import { Id, Timestamp } from './common.js';
import { SessionEventNotification, SessionStatus } from './session-events.js';

/**
 * The JSON-RPC method table between the extension and the control plane. Each entry names the
 * direction and the params/result schemas; both sides parse what they receive with them.
 * Later issues fill in the bodies; the names are the contract.
 */
/** One approval rule: the last rule whose tool and pattern match decides. Globs: `*` any run, `?` one character. */
export const ApprovalRule = z.strictObject({
  tool: z.string().min(1).max(100).describe('Tool or permission name (bash, edit, read, webfetch, …) or a glob'),
  pattern: z.string().min(1).max(1000).default('*').describe('Glob over what the tool acts on: a command, a path, a URL'),
  action: z.enum(['allow', 'ask', 'deny']),
});
export type ApprovalRule = z.infer<typeof ApprovalRule>;
export const ApprovalPolicy = z.array(ApprovalRule).max(200);
export type ApprovalPolicy = z.infer<typeof ApprovalPolicy>;

export const Session = z.object({
  id: Id,
  userId: Id,
  teamId: Id.nullable(),
  title: z.string(),
  agent: z.string(),
  model: z.string(),
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
      model: z.string().max(100).optional().describe('A model name from /api/v1/models; default: the first enabled one'),
      teamId: Id.optional(),
      workspace: WorkspaceSource.default({ kind: 'empty' }),
      policy: ApprovalPolicy.optional().describe('Overrides the team default approval policy'),
    }),
    result: Session,
  },
  'session/archive': { params: z.strictObject({ sessionId: Id }), result: Session },
  'session/list': {
    params: z.strictObject({ includeArchived: z.boolean().default(false), includeTeam: z.boolean().default(true) }),
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
    params: z.strictObject({ sessionId: Id, permissionId: z.string().min(1).max(200), reply: z.enum(['once', 'always', 'reject']) }),
    result: Empty,
  },
  'question/reply': {
    params: z.strictObject({
      sessionId: Id,
      questionId: z.string().min(1).max(200),
      answers: z
        .array(z.array(z.string().max(1000)).max(50))
        .max(50)
        .nullable()
        .describe('One list of chosen labels per question; null declines'),
    }),
    result: Empty,
  },
  'budget/get': { params: Empty, result: z.object({ budgets: z.array(Budget) }) },
} as const;
export type RpcRequestMethod = keyof typeof rpcRequests;
/** What a client sends (defaults may be left out). */
export type RpcParams<M extends RpcRequestMethod> = z.input<(typeof rpcRequests)[M]['params']>;
/** What a handler receives after parsing (defaults filled in). */
export type RpcParsedParams<M extends RpcRequestMethod> = z.infer<(typeof rpcRequests)[M]['params']>;
export type RpcResult<M extends RpcRequestMethod> = z.infer<(typeof rpcRequests)[M]['result']>;

/** Notifications the control plane sends to the client. */
export const rpcServerNotifications = {
  'session/event': SessionEventNotification,
  /** The client fell too far behind: drop the stream and subscribe again from `lastSeq`. */
  'session/resubscribe': z.object({ sessionId: Id, lastSeq: z.number().int().nonnegative() }),
} as const;
export type RpcServerNotification = keyof typeof rpcServerNotifications;

export const RPC_METHODS = Object.keys(rpcRequests) as RpcRequestMethod[];
