import { HostToWebview, RpcInitializeResult, rpcRequests, rpcServerNotifications, WebviewToHost } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';

const uuid = '3f1c2a4e-8b7d-4c1a-9e2f-0a1b2c3d4e5f';

describe('webview ⇄ host messages', () => {
  it('parses what the chat webview sends and rejects anything else', () => {
    expect(WebviewToHost.parse({ type: 'ready' })).toEqual({ type: 'ready' });
    expect(WebviewToHost.parse({ type: 'prompt', text: '  fix it  ' })).toEqual({ type: 'prompt', text: 'fix it' });
    expect(WebviewToHost.safeParse({ type: 'prompt', text: '   ' }).success).toBe(false);
    expect(WebviewToHost.safeParse({ type: 'permission.reply', permissionId: 'per_1', reply: 'sometimes' }).success).toBe(false);
    expect(WebviewToHost.safeParse({ type: 'diff.open', path: '../etc/passwd' }).success).toBe(false);
    expect(WebviewToHost.safeParse({ type: 'changes.apply', paths: ['/abs/path'] }).success).toBe(false);
    expect(WebviewToHost.parse({ type: 'changes.apply' })).toEqual({ type: 'changes.apply' });
    expect(WebviewToHost.safeParse({ type: 'command', command: 'workbench.action.quit' }).success).toBe(false);
    expect(WebviewToHost.safeParse({ type: 'eval', code: 'x' }).success).toBe(false);
    expect(WebviewToHost.safeParse({ type: 'question.reply', questionId: 'q', answers: [['a']] }).success).toBe(true);
  });

  it('parses what the host posts', () => {
    const events = HostToWebview.parse({
      type: 'events',
      sessionId: uuid,
      reset: true,
      events: [{ sessionId: uuid, seq: 1, at: '2026-11-24T10:00:00.000Z', event: { type: 'status', status: 'idle' } }],
    });
    expect(events.type).toBe('events');
    expect(HostToWebview.safeParse({ type: 'connection', state: 'sleeping' }).success).toBe(false);
    expect(
      HostToWebview.parse({ type: 'changes', sessionId: uuid, files: [{ path: 'a.ts', status: 'added', conflict: false, applied: false }] })
        .type,
    ).toBe('changes');
  });
});

describe('workspace changes and live budgets on the RPC link', () => {
  it('checks file paths and carries budget notifications', () => {
    expect(rpcRequests['session/file'].params.safeParse({ sessionId: uuid, path: 'src/a.ts' }).success).toBe(true);
    expect(rpcRequests['session/file'].params.safeParse({ sessionId: uuid, path: 'src/../../a.ts' }).success).toBe(false);
    expect(rpcRequests['session/file'].result.safeParse({ path: 'a', content: 'not base64!', sha256: null }).success).toBe(false);
    expect(
      rpcServerNotifications['budget/alert'].safeParse({ budgetId: uuid, scope: 'user', period: 'month', spentMicros: 1, limitMicros: 2 })
        .success,
    ).toBe(true);
    expect(
      rpcServerNotifications['budget/alert'].safeParse({ budgetId: uuid, scope: 'org', period: 'month', spentMicros: 1, limitMicros: 2 })
        .success,
    ).toBe(false);
    expect(
      RpcInitializeResult.safeParse({
        capabilities: {},
        serverInfo: { name: 'switchboard-control-plane', version: '0.1.0' },
        user: { id: uuid, email: 'a@b.c', displayName: 'A', role: 'member' },
      }).success,
    ).toBe(true);
  });
});
