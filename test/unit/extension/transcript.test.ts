import type { HostToWebview, Session, SessionEvent, SessionEventNotification } from '@switchboard/protocol';
import { HostToWebview as HostToWebviewSchema } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import {
  applyHostMessage,
  createTranscriptState,
  isBusy,
  type Patch,
  type TranscriptItem,
  type TranscriptState,
} from '../../../extension/webview/transcript.js';

const SESSION_ID = '3f1c2a4e-8b7d-4c1a-9e2f-0a1b2c3d4e5f';
const OTHER_SESSION_ID = '9a8b7c6d-1e2f-4a3b-8c9d-0e1f2a3b4c5d';
const USER_ID = '11111111-2222-4333-8444-555555555555';
const AT = '2026-11-24T10:00:00.000Z';

function session(overrides: Partial<Session> = {}): Session {
  return {
    id: SESSION_ID,
    userId: USER_ID,
    teamId: null,
    title: 'Fix the flaky test',
    agent: 'build',
    agentId: null,
    agentVersion: null,
    model: 'sonnet',
    status: 'idle',
    lastSeq: 0,
    createdAt: AT,
    updatedAt: AT,
    ...overrides,
  };
}

/** Builds notifications with consecutive seqs, the way the control plane numbers them. */
function stream(start = 1) {
  let seq = start;
  return (event: SessionEvent, sessionId = SESSION_ID): SessionEventNotification => ({ sessionId, seq: seq++, at: AT, event });
}

function events(list: SessionEventNotification[], reset = false, sessionId = SESSION_ID): HostToWebview {
  return { type: 'events', sessionId, events: list, reset };
}

function open(overrides: Partial<Session> = {}, canWrite = true): TranscriptState {
  const state = createTranscriptState();
  applyHostMessage(state, { type: 'session', session: session(overrides), canWrite });
  return state;
}

const prompt = (text: string, messageId = 'u1'): SessionEvent => ({ type: 'prompt', messageId, text, userId: USER_ID });
const text = (delta: string, partId = 'p1', messageId = 'm1'): SessionEvent => ({ type: 'text.delta', messageId, partId, delta });
const usage = (inputTokens: number, outputTokens: number, costMicros: number, messageId = 'm1'): SessionEvent => ({
  type: 'usage',
  messageId,
  model: 'sonnet',
  inputTokens,
  outputTokens,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costMicros,
});

function items(state: TranscriptState, turn = 0): TranscriptItem[] {
  return state.turns[turn]?.items ?? [];
}

describe('chat transcript reducer', () => {
  it('starts a turn at each prompt and accumulates text and reasoning deltas per part', () => {
    const state = open();
    const next = stream();
    applyHostMessage(
      state,
      events([
        next(prompt('Why does it fail?')),
        next({ type: 'reasoning.delta', messageId: 'm1', partId: 'r1', delta: 'Look at ' }),
        next({ type: 'reasoning.delta', messageId: 'm1', partId: 'r1', delta: 'the timer.' }),
        next(text('It ')),
        next(text('races.')),
        next(text('Second block', 'p2')),
        next(prompt('Fix it', 'u2')),
        next(text('Done.', 'p3', 'm2')),
      ]),
    );
    expect(state.turns).toHaveLength(2);
    expect(state.turns[0]?.prompt?.text).toBe('Why does it fail?');
    expect(items(state).map((item) => [item.kind, 'text' in item ? item.text : ''])).toEqual([
      ['reasoning', 'Look at the timer.'],
      ['text', 'It races.'],
      ['text', 'Second block'],
    ]);
    expect(items(state, 1)).toMatchObject([{ kind: 'text', text: 'Done.' }]);
    expect(state.lastSeq).toBe(8);
  });

  it('reports a streamed delta as one item patch for the block that grew', () => {
    const state = open();
    const next = stream();
    applyHostMessage(state, events([next(prompt('Hi')), next(text('A'))]));
    const patches = applyHostMessage(state, events([next(text('B'))]));
    expect(patches).toHaveLength(1);
    expect(patches[0]).toMatchObject({ kind: 'item', item: { kind: 'text', text: 'AB' } });
    expect((patches[0] as Extract<Patch, { kind: 'item' }>).turn).toBe(state.turns[0]);
  });

  it('keeps one tool card per call with the latest state, and never lets a late state regress it', () => {
    const state = open();
    const next = stream();
    const tool = (toolState: 'pending' | 'running' | 'completed' | 'error', extra: Record<string, unknown> = {}): SessionEvent => ({
      type: 'tool.updated',
      messageId: 'm1',
      callId: 'c1',
      tool: 'bash',
      state: toolState,
      ...extra,
    });
    applyHostMessage(
      state,
      events([
        next(prompt('Run the tests')),
        next(tool('pending')),
        next(tool('running', { input: { command: 'npm test' } })),
        next(tool('completed', { input: { command: 'npm test' }, output: '3 passed' })),
        next(tool('running', { input: { command: 'stale' } })),
      ]),
    );
    expect(items(state)).toEqual([
      {
        kind: 'tool',
        key: 'tool:c1',
        messageId: 'm1',
        callId: 'c1',
        tool: 'bash',
        state: 'completed',
        input: { command: 'npm test' },
        output: '3 passed',
        error: undefined,
      },
    ]);
    applyHostMessage(
      state,
      events([next({ type: 'tool.updated', messageId: 'm1', callId: 'c2', tool: 'edit', state: 'error', error: 'No such file' })]),
    );
    expect(items(state)[1]).toMatchObject({ kind: 'tool', state: 'error', error: 'No such file' });
  });

  it('lists file edits with their diff', () => {
    const state = open();
    const next = stream();
    applyHostMessage(
      state,
      events([
        next(prompt('Edit')),
        next({ type: 'file.edited', path: 'src/a.ts', diff: '+x' }),
        next({ type: 'file.edited', path: 'src/b.ts' }),
      ]),
    );
    expect(items(state)).toMatchObject([
      { kind: 'edit', path: 'src/a.ts', diff: '+x' },
      { kind: 'edit', path: 'src/b.ts', diff: undefined },
    ]);
  });

  it('keeps a permission pending until its reply, and records who decided', () => {
    const state = open();
    const next = stream();
    const asked = (permissionId: string): SessionEvent => ({
      type: 'permission.asked',
      permissionId,
      tool: 'bash',
      patterns: ['rm -rf build'],
      title: 'bash: rm -rf build',
      expiresAt: AT,
    });
    applyHostMessage(state, events([next(prompt('Clean')), next(asked('perm-1')), next(asked('perm-2'))]));
    expect(items(state).map((item) => item.kind === 'permission' && item.reply)).toEqual([null, null]);
    const patches = applyHostMessage(
      state,
      events([
        next({ type: 'permission.replied', permissionId: 'perm-1', reply: 'once', by: 'user' }),
        next({ type: 'permission.replied', permissionId: 'perm-2', reply: 'reject', by: 'timeout', reason: 'No answer' }),
        next({ type: 'permission.replied', permissionId: 'unknown', reply: 'always', by: 'policy' }),
      ]),
    );
    expect(items(state)).toMatchObject([
      { kind: 'permission', permissionId: 'perm-1', reply: { reply: 'once', by: 'user' } },
      { kind: 'permission', permissionId: 'perm-2', reply: { reply: 'reject', by: 'timeout', reason: 'No answer' } },
    ]);
    expect(patches.filter((patch) => patch.kind === 'item')).toHaveLength(2);
  });

  it('keeps a question pending until it is answered or declined', () => {
    const state = open();
    const next = stream();
    const questions = [{ header: 'Scope', question: 'Which package?', options: [{ label: 'web', description: '' }], multiple: false }];
    applyHostMessage(
      state,
      events([
        next(prompt('Refactor')),
        next({ type: 'question.asked', questionId: 'q1', questions, expiresAt: AT }),
        next({ type: 'question.asked', questionId: 'q2', questions, expiresAt: AT }),
      ]),
    );
    expect(items(state)).toMatchObject([
      { kind: 'question', questionId: 'q1', answer: null, questions },
      { kind: 'question', questionId: 'q2', answer: null },
    ]);
    applyHostMessage(
      state,
      events([
        next({ type: 'question.answered', questionId: 'q1', answers: [['web']], by: 'user' }),
        next({ type: 'question.answered', questionId: 'q2', answers: null, by: 'timeout' }),
      ]),
    );
    expect(items(state)).toMatchObject([
      { kind: 'question', answer: { answers: [['web']], by: 'user' } },
      { kind: 'question', answer: { answers: null, by: 'timeout' } },
    ]);
  });

  it('shows errors with code, message and details in the turn', () => {
    const state = open();
    const next = stream();
    applyHostMessage(
      state,
      events([
        next(prompt('Go')),
        next({
          type: 'error',
          code: 'BUDGET_EXCEEDED',
          message: 'Your daily budget of $5.00 is spent; ask your team admin.',
          details: { limitMicros: 5_000_000 },
        }),
      ]),
    );
    expect(items(state)).toMatchObject([{ kind: 'error', code: 'BUDGET_EXCEEDED', details: { limitMicros: 5_000_000 } }]);
  });

  it('sums usage per turn and for the session', () => {
    const state = open();
    const next = stream();
    applyHostMessage(
      state,
      events([
        next(prompt('One')),
        next(usage(1000, 200, 12_300)),
        next(usage(500, 100, 1_000, 'm1b')),
        next(prompt('Two', 'u2')),
        next(usage(10, 5, 7, 'm2')),
      ]),
    );
    expect(state.turns[0]?.usage).toEqual({ inputTokens: 1500, outputTokens: 300, costMicros: 13_300 });
    expect(state.turns[1]?.usage).toEqual({ inputTokens: 10, outputTokens: 5, costMicros: 7 });
    expect(state.usage).toEqual({ inputTokens: 1510, outputTokens: 305, costMicros: 13_307 });
  });

  it('tracks session status, with the retry detail, and treats busy and retry as running', () => {
    const state = open();
    const next = stream();
    applyHostMessage(state, events([next(prompt('Go')), next({ type: 'status', status: 'busy' })]));
    expect(isBusy(state)).toBe(true);
    applyHostMessage(state, events([next({ type: 'status', status: 'retry', detail: 'Rate limited, retrying in 4s' })]));
    expect(state).toMatchObject({ status: 'retry', statusDetail: 'Rate limited, retrying in 4s' });
    expect(isBusy(state)).toBe(true);
    applyHostMessage(state, events([next({ type: 'status', status: 'idle' })]));
    expect(state).toMatchObject({ status: 'idle', statusDetail: undefined });
    expect(isBusy(state)).toBe(false);
  });

  it('ignores events it already applied, so a replay after reconnect does not duplicate', () => {
    const state = open();
    const next = stream();
    const batch = [prompt('Hi'), text('Hel'), text('lo'), usage(10, 2, 30)].map((event) => next(event));
    applyHostMessage(state, events(batch));
    const patches = applyHostMessage(state, events(batch));
    expect(patches).toEqual([]);
    const more = stream(3);
    applyHostMessage(state, events([more(text('lo')), more(usage(10, 2, 30)), more(text('!'))]));
    expect(items(state)).toMatchObject([{ kind: 'text', text: 'Hello!' }]);
    expect(state.turns[0]?.usage.costMicros).toBe(30);
    expect(state.lastSeq).toBe(5);
  });

  it('rebuilds from scratch on a reset', () => {
    const state = open();
    const first = stream();
    applyHostMessage(state, events([first(prompt('Old')), first(text('old text')), first(usage(1, 1, 1))]));
    const replay = stream();
    const patches = applyHostMessage(state, events([replay(prompt('New')), replay(text('new text'))], true));
    expect(patches[0]).toEqual({ kind: 'reset' });
    expect(state.turns).toHaveLength(1);
    expect(state.turns[0]?.prompt?.text).toBe('New');
    expect(items(state)).toMatchObject([{ kind: 'text', text: 'new text' }]);
    expect(state.usage.costMicros).toBe(0);
    expect(state.lastSeq).toBe(2);
  });

  it('resets when another session is shown, and ignores events and changes of other sessions', () => {
    const state = open();
    const next = stream();
    applyHostMessage(state, events([next(prompt('Mine'))]));
    applyHostMessage(state, {
      type: 'changes',
      sessionId: SESSION_ID,
      files: [{ path: 'a.ts', status: 'added', conflict: false, applied: false }],
    });
    expect(state.changes).toHaveLength(1);

    applyHostMessage(state, { type: 'session', session: session({ title: 'Renamed', lastSeq: 1 }), canWrite: true });
    expect(state.turns).toHaveLength(1);
    expect(state.session?.title).toBe('Renamed');

    const patches = applyHostMessage(state, {
      type: 'session',
      session: session({ id: OTHER_SESSION_ID, status: 'archived' }),
      canWrite: false,
    });
    expect(patches).toContainEqual({ kind: 'reset' });
    expect(state).toMatchObject({ turns: [], lastSeq: 0, changes: null, status: 'archived', canWrite: false });
    expect(applyHostMessage(state, events([stream()(prompt('Not this one'))]))).toEqual([]);
    expect(applyHostMessage(state, { type: 'changes', sessionId: SESSION_ID, files: [] })).toEqual([]);
    expect(state.turns).toHaveLength(0);

    applyHostMessage(state, { type: 'session', session: null, canWrite: false });
    expect(state.session).toBeNull();
  });

  it('takes the status from the session snapshot unless applied events are newer', () => {
    const state = open({ status: 'busy', lastSeq: 5 });
    expect(state.status).toBe('busy');
    const next = stream();
    applyHostMessage(state, events([1, 2, 3, 4, 5, 6].map(() => next({ type: 'status', status: 'idle' }))));
    applyHostMessage(state, { type: 'session', session: session({ status: 'busy', lastSeq: 5 }), canWrite: true });
    expect(state.status).toBe('idle');
  });

  it('files events that come before any prompt under a turn without prompt', () => {
    const state = open();
    const next = stream(40);
    applyHostMessage(state, events([next(text('resumed')), next({ type: 'error', code: 'UPSTREAM_ERROR', message: 'Provider down' })]));
    expect(state.turns).toHaveLength(1);
    expect(state.turns[0]?.prompt).toBeNull();
    expect(items(state).map((item) => item.kind)).toEqual(['text', 'error']);
  });

  it('tracks connection, viewer and notices', () => {
    const state = createTranscriptState();
    applyHostMessage(state, { type: 'init', view: 'sidebar', user: { id: USER_ID, displayName: 'Ada' } });
    applyHostMessage(state, { type: 'connection', state: 'reconnecting', detail: 'Socket closed' });
    for (const message of ['a', 'b', 'c', 'd']) applyHostMessage(state, { type: 'notice', level: 'error', message });
    expect(state).toMatchObject({
      view: 'sidebar',
      user: { displayName: 'Ada' },
      connection: 'reconnecting',
      connectionDetail: 'Socket closed',
    });
    expect(state.notices.map((notice) => notice.message)).toEqual(['b', 'c', 'd']);
  });

  it('streams a 1,000-turn transcript in linear time', () => {
    const state = open();
    const next = stream();
    const started = performance.now();
    for (let turn = 0; turn < 1000; turn++) {
      const batch = [next(prompt(`Prompt ${turn}`, `u${turn}`))];
      for (let delta = 0; delta < 50; delta++) batch.push(next(text('word ', `p${turn}`, `m${turn}`)));
      batch.push(next({ type: 'tool.updated', messageId: `m${turn}`, callId: `c${turn}`, tool: 'read', state: 'completed' }));
      batch.push(next(usage(100, 10, 5, `m${turn}`)));
      applyHostMessage(state, events(batch));
    }
    // A late delta to the first turn lands in place, by key.
    applyHostMessage(state, events([next(text('late', 'p0', 'm0'))]));
    const elapsed = performance.now() - started;
    expect(state.turns).toHaveLength(1000);
    expect(items(state, 0)[0]).toMatchObject({ text: `${'word '.repeat(50)}late` });
    expect(state.usage.costMicros).toBe(5000);
    expect(elapsed).toBeLessThan(2000);
  });

  it('accepts only the host messages the protocol defines', () => {
    expect(HostToWebviewSchema.safeParse({ type: 'events', sessionId: SESSION_ID, events: [], reset: false }).success).toBe(true);
    expect(HostToWebviewSchema.safeParse({ type: 'events', sessionId: SESSION_ID, events: [{ seq: 0 }], reset: false }).success).toBe(
      false,
    );
    expect(HostToWebviewSchema.safeParse({ type: 'eval', code: 'alert(1)' }).success).toBe(false);
  });
});
