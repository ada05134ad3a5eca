import { RPC_METHODS, rpcRequests, rpcServerNotifications, SessionEvent } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';

const uuid = '3f1c2a4e-8b7d-4c1a-9e2f-0a1b2c3d4e5f';

describe('JSON-RPC method table', () => {
  it('names methods as domain/verb', () => {
    for (const method of RPC_METHODS) expect(method).toMatch(/^[a-z]+\/[a-z]+$/);
    expect(RPC_METHODS).toContain('session/subscribe');
  });

  it('parses valid params and rejects malformed ones', () => {
    expect(rpcRequests['session/subscribe'].params.parse({ sessionId: uuid })).toEqual({ sessionId: uuid, sinceSeq: 0 });
    expect(rpcRequests['session/subscribe'].params.safeParse({ sessionId: uuid, sinceSeq: -1 }).success).toBe(false);
    expect(rpcRequests['session/create'].params.parse({ title: 'Fix bug' }).workspace).toEqual({ kind: 'empty' });
    expect(rpcRequests['session/create'].params.safeParse({ title: 'x', workspace: { kind: 'ftp' } }).success).toBe(false);
    expect(rpcRequests['permission/reply'].params.safeParse({ sessionId: uuid, permissionId: 'p', reply: 'maybe' }).success).toBe(false);
    expect(rpcRequests['session/prompt'].params.safeParse({ sessionId: uuid, text: '', extra: 1 }).success).toBe(false);
  });

  it('parses session events by type and rejects unknown types', () => {
    const notification = rpcServerNotifications['session/event'].parse({
      sessionId: uuid,
      seq: 1,
      at: '2026-11-24T10:00:00.000Z',
      event: { type: 'text.delta', messageId: 'm', partId: 'p', delta: 'Hello' },
    });
    expect(notification.event.type).toBe('text.delta');
    expect(SessionEvent.safeParse({ type: 'mystery' }).success).toBe(false);
    expect(SessionEvent.safeParse({ type: 'error', code: 'BUDGET_EXCEEDED', message: 'Budget reached' }).success).toBe(true);
    expect(SessionEvent.safeParse({ type: 'error', code: 'NOPE', message: 'x' }).success).toBe(false);
  });
});
