import type { ChatChange, ConnectionState, ErrorCode, QuestionSpec, Session, SessionStatus } from '@switchboard/protocol';

/** The chat view model: what the reducer in transcript.ts builds and the view draws. No DOM here. */

export type ToolState = 'pending' | 'running' | 'completed' | 'error';

export interface TextItem {
  kind: 'text' | 'reasoning';
  key: string;
  messageId: string;
  partId: string;
  text: string;
}

export interface ToolItem {
  kind: 'tool';
  key: string;
  messageId: string;
  callId: string;
  tool: string;
  state: ToolState;
  input: unknown;
  output: string | undefined;
  error: string | undefined;
}

export interface EditItem {
  kind: 'edit';
  key: string;
  path: string;
  diff: string | undefined;
}

export interface PermissionItem {
  kind: 'permission';
  key: string;
  permissionId: string;
  tool: string;
  patterns: string[];
  title: string;
  expiresAt: string;
  reply: { reply: 'once' | 'always' | 'reject'; by: 'user' | 'policy' | 'timeout' | 'system'; reason: string | undefined } | null;
}

export interface QuestionItem {
  kind: 'question';
  key: string;
  questionId: string;
  questions: QuestionSpec[];
  expiresAt: string;
  answer: { answers: string[][] | null; by: 'user' | 'timeout' | 'system' } | null;
}

export interface ErrorItem {
  kind: 'error';
  key: string;
  code: ErrorCode;
  message: string;
  details: Record<string, unknown> | undefined;
}

export type TranscriptItem = TextItem | ToolItem | EditItem | PermissionItem | QuestionItem | ErrorItem;

export interface UsageTotals {
  inputTokens: number;
  outputTokens: number;
  costMicros: number;
}

export interface Turn {
  id: string;
  /** Null for events that came before any prompt in the replay (a preamble turn). */
  prompt: { messageId: string; text: string; userId: string; at: string } | null;
  items: TranscriptItem[];
  usage: UsageTotals;
}

export interface Notice {
  id: number;
  level: 'info' | 'error';
  message: string;
}

export interface TranscriptState {
  view: 'sidebar' | 'editor' | null;
  user: { id: string; displayName: string } | null;
  connection: ConnectionState;
  connectionDetail: string | undefined;
  session: Session | null;
  canWrite: boolean;
  status: SessionStatus;
  statusDetail: string | undefined;
  lastSeq: number;
  turns: Turn[];
  usage: UsageTotals;
  /** Null until the host sent the changed files of this session. */
  changes: ChatChange[] | null;
  notices: Notice[];
  nextNoticeId: number;
  /** Items by key (`text:<partId>`, `tool:<callId>`, `permission:<id>`, …) and the turn holding them. */
  index: Map<string, { turn: Turn; item: TranscriptItem }>;
  /** Which turn an assistant message belongs to, so its usage lands there. */
  messageTurns: Map<string, Turn>;
}

/** What changed, for a renderer that updates only that. Items and turns are the state's own objects. */
export type Patch =
  | { kind: 'reset' }
  | { kind: 'meta' }
  | { kind: 'turn'; turn: Turn }
  | { kind: 'item'; turn: Turn; item: TranscriptItem }
  | { kind: 'changes' }
  | { kind: 'notices' };
