import { z } from 'zod';
import { AgentSummary } from './admin/agents.js';
import { Budget } from './admin/budgets.js';
import { MemoryContent, MemoryKey, MemoryList, MemoryNote } from './admin/memory.js';
import { Schedule, ScheduleRunNotification } from './admin/schedules.js';
import { Role } from './admin/users.js';
import { Id, Timestamp, WorkspacePath } from './common.js';
import { ApprovalPolicy } from './policy.js';
import { SessionEventNotification, SessionStatus } from './session-events.js';

export { ApprovalPolicy, ApprovalRule } from './policy.js';

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
  /** The defined agent (`/api/v1/agents`) the session runs, and the version it was started with; null for OpenCode's built-in agents. */
  agentId: Id.nullable(),
  agentVersion: z.number().int().nullable(),
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

/** A file the agent changed in its workspace, compared with what the workspace started from. */
export const ChangedFile = z.object({
  path: z.string(),
  status: z.enum(['added', 'modified', 'deleted']),
  /** SHA-256 (hex) of the file as the workspace started; null for a file the agent added. */
  baseSha256: z.string().nullable(),
  /** SHA-256 (hex) of the agent's version; null for a file the agent deleted. */
  sha256: z.string().nullable(),
  bytes: z.number().int().nonnegative(),
});
export type ChangedFile = z.infer<typeof ChangedFile>;

/** Largest file `session/file` returns (the agent's version, for a diff or to apply). */
export const MAX_SESSION_FILE_BYTES = 8 * 1024 * 1024;

/** A soft budget alert: a budget of the user (or of their team) crossed its alert threshold this period. */
export const BudgetAlertNotification = z.object({
  budgetId: Id,
  scope: z.enum(['user', 'team']),
  period: z.enum(['day', 'week', 'month', 'total']),
  spentMicros: z.number().int().nonnegative(),
  limitMicros: z.number().int().nonnegative(),
});
export type BudgetAlertNotification = z.infer<typeof BudgetAlertNotification>;

/** LSP's progress token: a request that carries one gets `$/progress` begin/report/end for long waits. */
export const ProgressToken = z.union([z.string().min(1).max(200), z.number().int()]);
export type ProgressToken = z.infer<typeof ProgressToken>;

export const rpcRequests = {
  'session/create': {
    params: z.strictObject({
      title: z.string().trim().min(1).max(200),
      agent: z
        .string()
        .max(100)
        .optional()
        .describe('A defined agent you can see (agent/list), else OpenCode’s build or plan; default build'),
      model: z
        .string()
        .max(100)
        .optional()
        .describe('A model name from /api/v1/models; default: the agent’s model, else the first enabled one'),
      teamId: Id.optional(),
      workspace: WorkspaceSource.default({ kind: 'empty' }),
      policy: ApprovalPolicy.optional().describe('Overrides the agent’s tool policy and the team default approval policy'),
      workDoneToken: ProgressToken.optional(),
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
    params: z.strictObject({ sessionId: Id, text: z.string().min(1).max(200_000), workDoneToken: ProgressToken.optional() }),
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
  'session/changes': {
    params: z.strictObject({ sessionId: Id }),
    result: z.object({ files: z.array(ChangedFile), truncated: z.boolean().describe('More files changed than one answer lists') }),
  },
  'session/file': {
    params: z.strictObject({ sessionId: Id, path: WorkspacePath }),
    result: z.object({
      path: z.string(),
      /** The agent's version, base64; null when the agent deleted the file. */
      content: z.base64().nullable(),
      sha256: z.string().nullable(),
    }),
  },
  'budget/get': { params: Empty, result: z.object({ budgets: z.array(Budget) }) },
  /** The caller's scheduled runs, each with its last run (its session is a normal session of theirs). */
  'schedule/list': { params: Empty, result: z.object({ items: z.array(Schedule) }) },
  'agent/list': { params: Empty, result: z.object({ items: z.array(AgentSummary) }) },
  'memory/list': { params: z.strictObject({ agentId: Id }), result: MemoryList },
  'memory/put': { params: z.strictObject({ agentId: Id, key: MemoryKey, content: MemoryContent }), result: MemoryNote },
  'memory/delete': { params: z.strictObject({ agentId: Id, key: MemoryKey }), result: z.object({ deleted: z.literal(true) }) },
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
  /** The user's budgets moved (a model call of theirs or of a teammate on a shared budget settled). */
  'budget/updated': z.object({ budgets: z.array(Budget) }),
  'budget/alert': BudgetAlertNotification,
  /** One of the user's scheduled runs ended (succeeded, failed) or a slot was skipped. */
  'schedule/run': ScheduleRunNotification,
} as const;
export type RpcServerNotification = keyof typeof rpcServerNotifications;

/** What the control plane answers to the LSP `initialize` request: who the connection belongs to. */
export const RpcInitializeResult = z.object({
  capabilities: z.object({}).passthrough(),
  serverInfo: z.object({ name: z.string(), version: z.string() }),
  user: z.object({ id: Id, email: z.string(), displayName: z.string(), role: Role }),
});
export type RpcInitializeResult = z.infer<typeof RpcInitializeResult>;

export const RPC_METHODS = Object.keys(rpcRequests) as RpcRequestMethod[];
