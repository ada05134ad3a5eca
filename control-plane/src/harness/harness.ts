import type { SessionEvent } from '@switchboard/protocol';

/**
 * What the rest of the control plane knows of an agent runtime. `inline` (one shared OpenCode
 * process) implements it now; `dedicated` (one process per agent, later on Kubernetes) will too.
 * Nothing outside harness/ sees OpenCode's own types.
 */
export interface Harness {
  readonly kind: 'inline' | 'dedicated';
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): HarnessHealth;
  /**
   * Resolves true once the runtime takes requests, waiting up to `timeoutMs` for one that is
   * starting or restarting; false when the wait runs out or the runtime was stopped.
   */
  whenReady(timeoutMs: number): Promise<boolean>;
  createSession(input: CreateHarnessSession): Promise<{ harnessSessionId: string }>;
  prompt(
    target: HarnessTarget,
    input: { text: string; model?: { providerId: string; modelId: string } | undefined; agent?: string | undefined },
  ): Promise<void>;
  abort(target: HarnessTarget): Promise<void>;
  replyPermission(target: HarnessTarget, permissionId: string, reply: 'once' | 'always' | 'reject'): Promise<void>;
  replyQuestion(target: HarnessTarget, questionId: string, answers: string[][]): Promise<void>;
  rejectQuestion(target: HarnessTarget, questionId: string): Promise<void>;
  /**
   * Gives the runtime's OS user what it needs of a session's folders (its workspace, its private
   * folder with key and secrets) and nothing more; idempotent, and cheap once done.
   */
  adoptWorkspace(input: { workspace: string; privateDir: string }): Promise<void>;
  /** Drops the harness's in-memory state for a workspace (config reload, archive). */
  dispose(directory: string): Promise<void>;
  /** Statuses of every session the harness is running now. */
  busySessions(): Promise<string[]>;
  onEvent(listener: (event: HarnessEvent) => void): () => void;
}

export interface HarnessTarget {
  directory: string;
  harnessSessionId: string;
}

export interface PermissionRule {
  permission: string;
  pattern: string;
  action: 'allow' | 'ask' | 'deny';
}

export interface CreateHarnessSession {
  directory: string;
  title: string;
  permission: PermissionRule[];
}

export interface HarnessHealth {
  state: 'starting' | 'running' | 'restarting' | 'stopped' | 'failed';
  pid: number | null;
  rssBytes: number | null;
  restarts: number;
  startedAt: string | null;
  lastError: string | null;
}

export interface HarnessUsage {
  messageId: string;
  model: string;
  input: number;
  output: number;
  reasoning: number;
  cacheRead: number;
  cacheWrite: number;
}

/** Events out of a harness, already neutral: session events to store, and requests to decide on. */
export type HarnessEvent =
  | { kind: 'session'; harnessSessionId: string; event: SessionEvent }
  | { kind: 'usage'; harnessSessionId: string; usage: HarnessUsage }
  | {
      kind: 'permission';
      harnessSessionId: string;
      directory: string;
      permissionId: string;
      permission: string;
      patterns: string[];
      title: string;
    }
  | { kind: 'question'; harnessSessionId: string; directory: string; questionId: string; questions: HarnessQuestion[] }
  | { kind: 'error'; harnessSessionId: string; name: string; message: string; statusCode: number | null; responseBody: string | null }
  | { kind: 'child'; harnessSessionId: string; parentId: string }
  | { kind: 'lifecycle'; state: 'started' | 'exited'; reason?: string };

export interface HarnessQuestion {
  header: string;
  question: string;
  options: { label: string; description: string }[];
  multiple: boolean;
}
