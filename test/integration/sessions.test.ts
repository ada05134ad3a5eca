import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { SessionEventNotification } from '@switchboard/protocol';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AgentHarness, createAgentHarness } from '../fixtures/agents.js';
import { connectRpc, type RpcClient } from '../fixtures/rpc-client.js';

let h: AgentHarness;
const clients: RpcClient[] = [];
beforeAll(async () => {
  h = await createAgentHarness({ SWITCHBOARD_APPROVAL_TIMEOUT_S: '3' });
}, 120_000);
afterAll(async () => {
  for (const client of clients) await client.close().catch(() => {});
  await h?.closeAll();
});
beforeEach(() => h.fake.reset());

async function client(token: string) {
  const rpc = await connectRpc(h.baseUrl, token);
  clients.push(rpc);
  return rpc;
}

const ofSession = (sessionId: string) => (event: SessionEventNotification) => event.sessionId === sessionId;
const idle = (sessionId: string) => (event: SessionEventNotification) =>
  event.sessionId === sessionId && event.event.type === 'status' && event.event.status === 'idle' && event.seq > 2;

function textOf(events: SessionEventNotification[], sessionId: string): string {
  return events
    .filter(ofSession(sessionId))
    .map((event) => (event.event.type === 'text.delta' ? event.event.delta : ''))
    .join('');
}

describe('a session on the shared harness', () => {
  it('runs a full turn with a tool call and streamed text, metered to the user and the session', async () => {
    const user = await h.createUser('member');
    const rpc = await client(user.token);
    const session = await rpc.request('session/create', { title: 'First turn' });
    expect(session).toMatchObject({ title: 'First turn', model: 'sb-coder', status: 'idle', userId: user.id });
    await rpc.request('session/subscribe', { sessionId: session.id, sinceSeq: 0 });
    h.fake.script(
      { toolCalls: [{ name: 'write', arguments: { filePath: 'hello.txt', content: 'Hello from the agent\n' } }] },
      { text: 'I created **hello.txt** for you.', chunks: 4 },
    );

    await rpc.request('session/prompt', { sessionId: session.id, text: 'Create hello.txt' });
    await rpc.waitFor(idle(session.id), 60_000);

    const mine = rpc.events.filter(ofSession(session.id));
    const seqs = mine.map((event) => event.seq);
    expect(seqs).toEqual(seqs.map((_, index) => index + 1));
    const types = mine.map((event) => event.event.type);
    expect(types).toContain('prompt');
    expect(types).toContain('tool.updated');
    expect(mine.find((event) => event.event.type === 'tool.updated' && event.event.state === 'completed')?.event).toMatchObject({
      tool: 'write',
    });
    expect(mine.find((event) => event.event.type === 'file.edited')?.event).toMatchObject({ path: 'hello.txt' });
    expect(textOf(rpc.events, session.id)).toBe('I created **hello.txt** for you.');
    expect(mine.find((event) => event.event.type === 'usage')?.event).toMatchObject({ model: 'sb-coder' });

    const [row] = await h.db.sql<{ workspace_dir: string }[]>`select workspace_dir from sessions where id = ${session.id}`;
    expect(readFileSync(path.join(row!.workspace_dir, 'hello.txt'), 'utf8')).toBe('Hello from the agent\n');
    const usage = await h.db.sql`select * from usage_events where session_id = ${session.id}`;
    expect(usage.length).toBe(2);
    expect(usage.every((call) => call.user_id === user.id && call.outcome === 'ok')).toBe(true);
    const [{ harness_session_id: harnessSessionId }] = (await h.db
      .sql`select harness_session_id from sessions where id = ${session.id}`) as any;
    expect(usage.every((call) => call.harness_session_id === harnessSessionId)).toBe(true);
    expect(h.fake.requests[0]!.headers['x-session-id']).toBeUndefined();
    expect(existsSync(path.join(row!.workspace_dir, '.opencode', 'node_modules'))).toBe(false);
  }, 90_000);
});
