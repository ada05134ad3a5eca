import type { SessionEvent } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import type { HarnessEvent } from '../../../control-plane/src/harness/harness.js';
import { createHarnessBridge } from '../../../control-plane/src/sessions/harness-bridge.js';
import { createLanes } from '../../../control-plane/src/sessions/lanes.js';
import type { SessionDeps } from '../../../control-plane/src/sessions/session-service.js';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The bridge with its collaborators reduced to what ordering depends on: OpenCode sessions h1 and h2
 * belong to our sessions s1 and s2, a price lookup takes `priceMs`, and `append` records the order
 * events reach the store in (the store gives seqs in that order).
 */
function bridgeWith(priceMs: number) {
  const listeners: ((event: HarnessEvent) => void)[] = [];
  const appended: { sessionId: string; event: SessionEvent }[] = [];
  const owners: Record<string, { sessionId: string; userId: string }> = {
    h1: { sessionId: 's1', userId: 'u1' },
    h2: { sessionId: 's2', userId: 'u2' },
  };
  const sql = (_strings: TemplateStringsArray, ...values: unknown[]) =>
    Promise.resolve([{ id: values[0], harness_session_id: values[0] === 's1' ? 'h1' : 'h2' }]);
  const deps = {
    sql,
    log: { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} },
    config: { approvalTimeoutS: 60, dataDir: '/nowhere' },
    runtimeDir: '/nowhere',
    harness: {
      onEvent(listener: (event: HarnessEvent) => void) {
        listeners.push(listener);
        return () => listeners.splice(listeners.indexOf(listener), 1);
      },
    },
    sessionKeys: { harnessSessionOwner: async (id: string) => owners[id] },
    providers: {
      async resolve() {
        await delay(priceMs);
        return undefined;
      },
    },
    events: {
      append: async (sessionId: string, events: SessionEvent[]) => {
        for (const event of events) appended.push({ sessionId, event });
        return [];
      },
    },
  } as unknown as SessionDeps;
  const bridge = createHarnessBridge(deps);
  bridge.start();
  const emit = (event: HarnessEvent) => {
    for (const listener of listeners) listener(event);
  };
  return { bridge, emit, appended };
}

const usage = (harnessSessionId: string): HarnessEvent => ({
  kind: 'usage',
  harnessSessionId,
  usage: { messageId: 'm1', model: 'm', input: 10, output: 5, reasoning: 0, cacheRead: 0, cacheWrite: 0 },
});
const idle = (harnessSessionId: string): HarnessEvent => ({
  kind: 'session',
  harnessSessionId,
  event: { type: 'status', status: 'idle' },
});
const delta = (harnessSessionId: string, text: string): HarnessEvent => ({
  kind: 'session',
  harnessSessionId,
  event: { type: 'text.delta', messageId: 'm1', partId: 'p1', delta: text },
});

describe('the harness bridge keeps each session’s order', () => {
  it('stores a usage figure that needs a slow price lookup before the idle OpenCode sent after it', async () => {
    const { bridge, emit, appended } = bridgeWith(50);
    emit(delta('h1', 'answer'));
    emit(usage('h1'));
    emit(idle('h1'));
    await bridge.stop();
    expect(appended.map((item) => item.event.type)).toEqual(['text.delta', 'usage', 'status']);
  });

  it('does not hold one session’s events behind another session’s slow work', async () => {
    const { bridge, emit, appended } = bridgeWith(200);
    emit(usage('h1'));
    emit(delta('h2', 'quick'));
    await delay(50);
    expect(appended.map((item) => item.sessionId)).toEqual(['s2']);
    await bridge.stop();
    expect(appended.map((item) => `${item.sessionId}:${item.event.type}`)).toEqual(['s2:text.delta', 's1:usage']);
  });
});

describe('lanes', () => {
  it('runs one key’s jobs in order, other keys beside them, and forgets keys with no work', async () => {
    const done: string[] = [];
    const lanes = createLanes(() => {});
    lanes.run('a', async () => {
      await delay(30);
      done.push('a1');
    });
    lanes.run('a', () => {
      done.push('a2');
    });
    lanes.run('b', () => {
      done.push('b1');
    });
    expect(lanes.size).toBe(2);
    await lanes.idle();
    expect(done).toEqual(['b1', 'a1', 'a2']);
    expect(lanes.size).toBe(0);
  });

  it('reports a failing job and goes on with the next one of its key', async () => {
    const errors: string[] = [];
    const done: string[] = [];
    const lanes = createLanes((error, key) => errors.push(`${key}: ${(error as Error).message}`));
    lanes.run('a', () => {
      throw new Error('boom');
    });
    lanes.run('a', () => {
      done.push('after');
    });
    await lanes.idle();
    expect(errors).toEqual(['a: boom']);
    expect(done).toEqual(['after']);
  });
});
