import type { HostToWebview, Session, SessionEventNotification } from '@switchboard/protocol';
import type {
  ErrorItem,
  Patch,
  PermissionItem,
  QuestionItem,
  ToolItem,
  ToolState,
  TranscriptItem,
  TranscriptState,
  Turn,
  UsageTotals,
} from './transcript-types.js';

export type * from './transcript-types.js';

/**
 * The reducer that builds the chat view model (transcript-types.ts) from host messages. No DOM here.
 *
 * The state is mutated in place rather than copied: a long transcript receives thousands of deltas,
 * and copying 1,000 turns per delta would make streaming quadratic. Instead every change is reported
 * as a `Patch` naming the turn or item that changed, and items are found by key through `index`.
 */

const MAX_NOTICES = 3;
const TOOL_RANK: Record<ToolState, number> = { pending: 0, running: 1, completed: 2, error: 2 };

export function createTranscriptState(): TranscriptState {
  return {
    view: null,
    user: null,
    connection: 'connecting',
    connectionDetail: undefined,
    session: null,
    canWrite: false,
    status: 'idle',
    statusDetail: undefined,
    lastSeq: 0,
    turns: [],
    usage: emptyUsage(),
    changes: null,
    notices: [],
    nextNoticeId: 1,
    index: new Map(),
    messageTurns: new Map(),
  };
}

function emptyUsage(): UsageTotals {
  return { inputTokens: 0, outputTokens: 0, costMicros: 0 };
}

/** A turn runs while the agent works on it; the composer offers Stop then. */
export function isBusy(state: TranscriptState): boolean {
  return state.status === 'busy' || state.status === 'retry';
}

export function applyHostMessage(state: TranscriptState, message: HostToWebview): Patch[] {
  switch (message.type) {
    case 'init':
      state.view = message.view;
      state.user = message.user;
      return [{ kind: 'meta' }];
    case 'connection':
      state.connection = message.state;
      state.connectionDetail = message.detail;
      return [{ kind: 'meta' }];
    case 'session':
      return applySession(state, message.session, message.canWrite);
    case 'events':
      return applyEvents(state, message.sessionId, message.events, message.reset);
    case 'changes':
      if (message.sessionId !== state.session?.id) return [];
      state.changes = message.files;
      return [{ kind: 'changes' }];
    case 'notice':
      state.notices = [...state.notices, { id: state.nextNoticeId++, level: message.level, message: message.message }].slice(-MAX_NOTICES);
      return [{ kind: 'notices' }];
  }
}

export function dismissNotice(state: TranscriptState, id: number): Patch[] {
  state.notices = state.notices.filter((notice) => notice.id !== id);
  return [{ kind: 'notices' }];
}

function applySession(state: TranscriptState, session: Session | null, canWrite: boolean): Patch[] {
  const patches: Patch[] = [];
  if ((session?.id ?? null) !== (state.session?.id ?? null)) {
    clearTranscript(state);
    state.changes = null;
    patches.push({ kind: 'reset' }, { kind: 'changes' });
  }
  state.session = session;
  state.canWrite = canWrite;
  // The snapshot wins unless the events we applied are newer than it; archiving is final either way.
  if (session && (state.lastSeq <= session.lastSeq || session.status === 'archived')) {
    if (session.status !== state.status) state.statusDetail = undefined;
    state.status = session.status;
  }
  if (!session) state.status = 'idle';
  patches.push({ kind: 'meta' });
  return patches;
}

function clearTranscript(state: TranscriptState): void {
  state.lastSeq = 0;
  state.turns = [];
  state.usage = emptyUsage();
  state.index.clear();
  state.messageTurns.clear();
  state.status = state.session?.status ?? 'idle';
  state.statusDetail = undefined;
}

function applyEvents(state: TranscriptState, sessionId: string, events: SessionEventNotification[], reset: boolean): Patch[] {
  if (!state.session || sessionId !== state.session.id) return [];
  const patches: Patch[] = [];
  if (reset) {
    clearTranscript(state);
    patches.push({ kind: 'reset' }, { kind: 'meta' });
  }
  for (const notification of events) {
    if (notification.sessionId !== sessionId || notification.seq <= state.lastSeq) continue;
    state.lastSeq = notification.seq;
    applyEvent(state, notification, patches);
  }
  return patches;
}

function applyEvent(state: TranscriptState, notification: SessionEventNotification, patches: Patch[]): void {
  const event = notification.event;
  switch (event.type) {
    case 'prompt': {
      const turn: Turn = {
        id: `turn-${notification.seq}`,
        prompt: { messageId: event.messageId, text: event.text, userId: event.userId, at: notification.at },
        items: [],
        usage: emptyUsage(),
      };
      state.turns.push(turn);
      patches.push({ kind: 'turn', turn });
      return;
    }
    case 'text.delta':
    case 'reasoning.delta': {
      const kind = event.type === 'text.delta' ? 'text' : 'reasoning';
      const key = `${kind}:${event.partId}`;
      const found = state.index.get(key);
      if (found?.item.kind === kind) {
        found.item.text += event.delta;
        patches.push({ kind: 'item', turn: found.turn, item: found.item });
        return;
      }
      const turn = turnForMessage(state, event.messageId, patches);
      addItem(state, turn, { kind, key, messageId: event.messageId, partId: event.partId, text: event.delta }, patches);
      return;
    }
    case 'tool.updated': {
      const key = `tool:${event.callId}`;
      const found = state.index.get(key);
      if (found?.item.kind === 'tool') {
        mergeTool(found.item, event);
        patches.push({ kind: 'item', turn: found.turn, item: found.item });
        return;
      }
      const turn = turnForMessage(state, event.messageId, patches);
      const item: ToolItem = {
        kind: 'tool',
        key,
        messageId: event.messageId,
        callId: event.callId,
        tool: event.tool,
        state: event.state,
        input: event.input,
        output: event.output,
        error: event.error,
      };
      addItem(state, turn, item, patches);
      return;
    }
    case 'file.edited':
      addItem(
        state,
        currentTurn(state, patches),
        { kind: 'edit', key: `edit:${notification.seq}`, path: event.path, diff: event.diff },
        patches,
      );
      return;
    case 'permission.asked': {
      const item: PermissionItem = {
        kind: 'permission',
        key: `permission:${event.permissionId}`,
        permissionId: event.permissionId,
        tool: event.tool,
        patterns: event.patterns,
        title: event.title,
        expiresAt: event.expiresAt,
        reply: null,
      };
      addItem(state, currentTurn(state, patches), item, patches);
      return;
    }
    case 'permission.replied': {
      const found = state.index.get(`permission:${event.permissionId}`);
      if (found?.item.kind !== 'permission') return;
      found.item.reply = { reply: event.reply, by: event.by, reason: event.reason };
      patches.push({ kind: 'item', turn: found.turn, item: found.item });
      return;
    }
    case 'question.asked': {
      const item: QuestionItem = {
        kind: 'question',
        key: `question:${event.questionId}`,
        questionId: event.questionId,
        questions: event.questions,
        expiresAt: event.expiresAt,
        answer: null,
      };
      addItem(state, currentTurn(state, patches), item, patches);
      return;
    }
    case 'question.answered': {
      const found = state.index.get(`question:${event.questionId}`);
      if (found?.item.kind !== 'question') return;
      found.item.answer = { answers: event.answers, by: event.by };
      patches.push({ kind: 'item', turn: found.turn, item: found.item });
      return;
    }
    case 'usage': {
      const turn = turnForMessage(state, event.messageId, patches);
      for (const totals of [turn.usage, state.usage]) {
        totals.inputTokens += event.inputTokens;
        totals.outputTokens += event.outputTokens;
        totals.costMicros += event.costMicros;
      }
      patches.push({ kind: 'turn', turn }, { kind: 'meta' });
      return;
    }
    case 'status':
      state.status = event.status;
      state.statusDetail = event.detail;
      patches.push({ kind: 'meta' });
      return;
    case 'error': {
      const item: ErrorItem = {
        kind: 'error',
        key: `error:${notification.seq}`,
        code: event.code,
        message: event.message,
        details: event.details,
      };
      addItem(state, currentTurn(state, patches), item, patches);
      return;
    }
  }
}

/** A late `running` after `completed` (or any older state) must not move the card backwards. */
function mergeTool(item: ToolItem, event: { tool: string; state: ToolState; input?: unknown; output?: string; error?: string }): void {
  const forward = TOOL_RANK[event.state] >= TOOL_RANK[item.state];
  if (forward) {
    item.state = event.state;
    item.tool = event.tool;
    if (event.input !== undefined) item.input = event.input;
    if (event.output !== undefined) item.output = event.output;
    if (event.error !== undefined) item.error = event.error;
    return;
  }
  if (item.input === undefined) item.input = event.input;
}

function addItem(state: TranscriptState, turn: Turn, item: TranscriptItem, patches: Patch[]): void {
  turn.items.push(item);
  state.index.set(item.key, { turn, item });
  patches.push({ kind: 'item', turn, item });
}

/** The turn an assistant message belongs to: where it first appeared, else the latest turn. */
function turnForMessage(state: TranscriptState, messageId: string, patches: Patch[]): Turn {
  const known = state.messageTurns.get(messageId);
  if (known) return known;
  const turn = currentTurn(state, patches);
  state.messageTurns.set(messageId, turn);
  return turn;
}

function currentTurn(state: TranscriptState, patches: Patch[]): Turn {
  const last = state.turns.at(-1);
  if (last) return last;
  const turn: Turn = { id: `turn-0-${state.lastSeq}`, prompt: null, items: [], usage: emptyUsage() };
  state.turns.push(turn);
  patches.push({ kind: 'turn', turn });
  return turn;
}
