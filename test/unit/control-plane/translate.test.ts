import { describe, expect, it } from 'vitest';
import { createTranslator } from '../../../control-plane/src/harness/translate.js';

const wrap = (type: string, properties: Record<string, unknown>, directory = '/ws/a') => ({ directory, payload: { type, properties } });

describe('OpenCode event translation', () => {
  it('streams assistant text and reasoning as deltas once, and skips the user’s own message', () => {
    const t = createTranslator();
    expect(t.translate(wrap('message.updated', { info: { id: 'm1', sessionID: 's', role: 'user' } }))).toEqual([]);
    expect(
      t.translate(wrap('message.part.updated', { part: { id: 'p0', messageID: 'm1', sessionID: 's', type: 'text', text: 'my prompt' } })),
    ).toEqual([]);
    t.translate(wrap('message.updated', { info: { id: 'm2', sessionID: 's', role: 'assistant', modelID: 'sb' } }));
    t.translate(wrap('message.part.updated', { part: { id: 'r', messageID: 'm2', sessionID: 's', type: 'reasoning', text: '' } }));
    expect(t.translate(wrap('message.part.delta', { sessionID: 's', messageID: 'm2', partID: 'r', field: 'text', delta: 'hmm' }))).toEqual([
      { kind: 'session', harnessSessionId: 's', event: { type: 'reasoning.delta', messageId: 'm2', partId: 'r', delta: 'hmm' } },
    ]);
    t.translate(wrap('message.part.updated', { part: { id: 'p', messageID: 'm2', sessionID: 's', type: 'text', text: '' } }));
    const deltas = ['Hel', 'lo'].flatMap((delta) =>
      t.translate(wrap('message.part.delta', { sessionID: 's', messageID: 'm2', partID: 'p', field: 'text', delta })),
    );
    expect(deltas.map((event: any) => event.event.delta)).toEqual(['Hel', 'lo']);
    // The final snapshot repeats the text: nothing new to send.
    expect(
      t.translate(wrap('message.part.updated', { part: { id: 'p', messageID: 'm2', sessionID: 's', type: 'text', text: 'Hello' } })),
    ).toEqual([]);
    // A provider that does not stream: the whole text arrives once, as one delta.
    const whole = t.translate(
      wrap('message.part.updated', { part: { id: 'q', messageID: 'm2', sessionID: 's', type: 'text', text: 'All at once' } }),
    );
    expect(whole).toEqual([
      { kind: 'session', harnessSessionId: 's', event: { type: 'text.delta', messageId: 'm2', partId: 'q', delta: 'All at once' } },
    ]);
  });

  it('reports each tool state once, with clipped output and the files an edit touched', () => {
    const t = createTranslator();
    const tool = (status: string, extra: Record<string, unknown> = {}) =>
      t.translate(
        wrap('message.part.updated', {
          part: {
            id: 't',
            messageID: 'm',
            sessionID: 's',
            type: 'tool',
            tool: 'edit',
            callID: 'c1',
            state: { status, input: { filePath: 'a.ts' }, ...extra },
          },
        }),
      );
    expect(tool('pending')).toHaveLength(1);
    expect(tool('running')).toHaveLength(1);
    expect(tool('running')).toEqual([]);
    const done = tool('completed', {
      output: 'y'.repeat(20_000),
      metadata: { filediff: { file: '/ws/a/src/a.ts', patch: '@@ -1 +1 @@' } },
    });
    expect(done.map((event: any) => event.event.type)).toEqual(['tool.updated', 'file.edited']);
    expect((done[0] as any).event.output.length).toBeLessThan(17_000);
    expect((done[1] as any).event).toEqual({ type: 'file.edited', path: 'src/a.ts', diff: '@@ -1 +1 @@' });
  });

  it('turns statuses, usage, permissions, questions, errors and subagents into neutral events', () => {
    const t = createTranslator();
    expect(t.translate(wrap('session.status', { sessionID: 's', status: { type: 'busy' } }))).toHaveLength(1);
    expect(t.translate(wrap('session.status', { sessionID: 's', status: { type: 'busy' } }))).toEqual([]);
    expect(t.translate(wrap('session.status', { sessionID: 's', status: { type: 'retry', message: 'try 2' } }))[0]).toMatchObject({
      event: { status: 'retry', detail: 'try 2' },
    });
    expect(
      t.translate(
        wrap('message.updated', { info: { id: 'm', sessionID: 's', role: 'assistant', error: { name: 'MessageAbortedError' } } }),
      )[0],
    ).toMatchObject({
      event: { status: 'idle', detail: 'aborted' },
    });
    expect(t.translate(wrap('session.idle', { sessionID: 's' }))).toEqual([]);
    const usage = t.translate(
      wrap('message.part.updated', {
        part: {
          id: 'f',
          messageID: 'm',
          sessionID: 's',
          type: 'step-finish',
          tokens: { input: 10, output: 2, reasoning: 1, cache: { read: 5, write: 3 } },
        },
      }),
    );
    expect(usage[0]).toMatchObject({ kind: 'usage', usage: { input: 10, output: 2, reasoning: 1, cacheRead: 5, cacheWrite: 3 } });
    const asked = t.translate(
      wrap('permission.asked', { id: 'per1', sessionID: 's', permission: 'bash', patterns: ['ls -la'], metadata: {} }),
    );
    expect(asked[0]).toMatchObject({
      kind: 'permission',
      permissionId: 'per1',
      permission: 'bash',
      patterns: ['ls -la'],
      title: 'bash: ls -la',
      directory: '/ws/a',
    });
    const question = t.translate(
      wrap('question.asked', { id: 'q1', sessionID: 's', questions: [{ question: 'Which?', options: [{ label: 'A' }] }] }),
    );
    expect(question[0]).toMatchObject({
      kind: 'question',
      questionId: 'q1',
      questions: [{ question: 'Which?', options: [{ label: 'A', description: '' }], multiple: false }],
    });
    const error = t.translate(
      wrap('session.error', {
        sessionID: 's',
        error: { name: 'APIError', data: { message: 'nope', statusCode: 402, responseBody: '{"code":"BUDGET_EXCEEDED"}' } },
      }),
    );
    expect(error[0]).toMatchObject({ kind: 'error', statusCode: 402, responseBody: '{"code":"BUDGET_EXCEEDED"}' });
    expect(t.translate(wrap('session.created', { info: { id: 'child', parentID: 's' } }))).toEqual([
      { kind: 'child', harnessSessionId: 'child', parentId: 's' },
    ]);
    expect(t.translate({ nonsense: true })).toEqual([]);
    expect(t.translate(wrap('plugin.added', { id: 'x' }))).toEqual([]);
  });

  it('forgets a session’s parts when it goes idle, so memory stays bounded', () => {
    const t = createTranslator();
    for (let i = 0; i < 1000; i++)
      t.translate(wrap('message.part.updated', { part: { id: `p${i}`, messageID: 'm', sessionID: 's', type: 'text', text: 'x' } }));
    expect(t.trackedSize()).toBeGreaterThanOrEqual(1000);
    t.translate(wrap('session.status', { sessionID: 's', status: { type: 'busy' } }));
    t.translate(wrap('session.status', { sessionID: 's', status: { type: 'idle' } }));
    expect(t.trackedSize()).toBe(0);
  });

  it('does not send an aborted part’s text again when its final snapshot arrives after the idle', () => {
    const t = createTranslator();
    t.translate(wrap('message.updated', { info: { id: 'm', sessionID: 's', role: 'assistant' } }));
    t.translate(wrap('session.status', { sessionID: 's', status: { type: 'busy' } }));
    t.translate(wrap('message.part.updated', { part: { id: 'p', messageID: 'm', sessionID: 's', type: 'text', text: '' } }));
    const streamed = ['Thinking ', 'about'].flatMap((delta) =>
      t.translate(wrap('message.part.delta', { sessionID: 's', messageID: 'm', partID: 'p', field: 'text', delta })),
    );
    expect(streamed).toHaveLength(2);
    const aborted = t.translate(
      wrap('message.updated', { info: { id: 'm', sessionID: 's', role: 'assistant', error: { name: 'MessageAbortedError' } } }),
    );
    expect(aborted[0]).toMatchObject({ event: { status: 'idle', detail: 'aborted' } });
    expect(
      t.translate(
        wrap('message.part.updated', { part: { id: 'p', messageID: 'm', sessionID: 's', type: 'text', text: 'Thinking about' } }),
      ),
    ).toEqual([]);
    // A new part of a later turn still streams.
    t.translate(wrap('session.status', { sessionID: 's', status: { type: 'busy' } }));
    expect(
      t.translate(wrap('message.part.updated', { part: { id: 'p2', messageID: 'm2', sessionID: 's', type: 'text', text: 'Next' } })),
    ).toHaveLength(1);
  });
});
