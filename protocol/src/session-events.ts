import { z } from 'zod';
import { Id, Timestamp } from './common.js';
import { ErrorCode } from './errors.js';

/**
 * What happens in a session, as clients see it. The control plane translates harness events into
 * this union, stores each with a gap-free `seq` per session, and fans them out.
 */
export const SessionStatus = z.enum(['idle', 'busy', 'retry', 'error', 'archived']);
export type SessionStatus = z.infer<typeof SessionStatus>;

const TextDelta = z.object({ type: z.literal('text.delta'), messageId: z.string(), partId: z.string(), delta: z.string() });
const ReasoningDelta = z.object({
  type: z.literal('reasoning.delta'),
  messageId: z.string(),
  partId: z.string(),
  delta: z.string(),
});
const ToolState = z.enum(['pending', 'running', 'completed', 'error']);
const ToolCall = z.object({
  type: z.literal('tool.updated'),
  messageId: z.string(),
  callId: z.string(),
  tool: z.string(),
  state: ToolState,
  input: z.unknown().optional(),
  output: z.string().optional(),
  error: z.string().optional(),
});
const FileEdited = z.object({ type: z.literal('file.edited'), path: z.string(), diff: z.string().optional() });
const PermissionAsked = z.object({
  type: z.literal('permission.asked'),
  permissionId: z.string(),
  tool: z.string(),
  patterns: z.array(z.string()),
  title: z.string(),
  expiresAt: Timestamp,
});
const PermissionReplied = z.object({
  type: z.literal('permission.replied'),
  permissionId: z.string(),
  tool: z.string().optional(),
  reply: z.enum(['once', 'always', 'reject']),
  by: z.enum(['user', 'policy', 'timeout', 'system']),
  reason: z.string().optional(),
});
export const QuestionSpec = z.object({
  header: z.string(),
  question: z.string(),
  options: z.array(z.object({ label: z.string(), description: z.string() })),
  multiple: z.boolean(),
});
export type QuestionSpec = z.infer<typeof QuestionSpec>;
const QuestionAsked = z.object({
  type: z.literal('question.asked'),
  questionId: z.string(),
  questions: z.array(QuestionSpec),
  expiresAt: Timestamp,
});
const QuestionAnswered = z.object({
  type: z.literal('question.answered'),
  questionId: z.string(),
  answers: z.array(z.array(z.string())).nullable(),
  by: z.enum(['user', 'timeout', 'system']),
});
const Usage = z.object({
  type: z.literal('usage'),
  messageId: z.string(),
  model: z.string(),
  reasoningTokens: z.number().int().nonnegative().optional(),
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  cacheReadTokens: z.number().int().nonnegative(),
  cacheWriteTokens: z.number().int().nonnegative(),
  costMicros: z.number().int().nonnegative(),
});
const StatusChanged = z.object({ type: z.literal('status'), status: SessionStatus, detail: z.string().optional() });
const UserPrompt = z.object({ type: z.literal('prompt'), messageId: z.string(), text: z.string(), userId: Id });
const SessionError = z.object({
  type: z.literal('error'),
  code: ErrorCode,
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});

export const SessionEvent = z.discriminatedUnion('type', [
  UserPrompt,
  TextDelta,
  ReasoningDelta,
  ToolCall,
  FileEdited,
  PermissionAsked,
  PermissionReplied,
  QuestionAsked,
  QuestionAnswered,
  Usage,
  StatusChanged,
  SessionError,
]);
export type SessionEvent = z.infer<typeof SessionEvent>;

/** The notification `session/event`: one stored event with its position in the session. */
export const SessionEventNotification = z.object({
  sessionId: Id,
  seq: z.number().int().positive(),
  at: Timestamp,
  event: SessionEvent,
});
export type SessionEventNotification = z.infer<typeof SessionEventNotification>;
