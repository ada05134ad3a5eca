import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SYSTEM } from '../../control-plane/src/audit/actions.js';
import { agentName, defineAgent } from '../fixtures/agent-builders.js';
import { useAgentHarness } from '../fixtures/agents.js';
import { connectRpc, type RpcClient } from '../fixtures/rpc-client.js';
import { idleAfter, ofSession, textOf, turn } from '../fixtures/turns.js';

const suite = useAgentHarness({
  SWITCHBOARD_APPROVAL_TIMEOUT_S: '2',
  SWITCHBOARD_WS_MESSAGES_PER_SECOND: '50',
  SWITCHBOARD_WS_MAX_MESSAGE_BYTES: '65536',
  SWITCHBOARD_WS_MAX_BUFFERED_BYTES: '65536',
});
const client = (token: string) => suite.client(token);

async function sessionFor(token: string, title: string) {
  const rpc = await client(token);
  const session = await rpc.request('session/create', { title });
  await rpc.request('session/subscribe', { sessionId: session.id });
  return { rpc, session };
}

const workspaceOf = async (sessionId: string) =>
  (
    (await suite.h.db.sql<{ workspace_dir: string }[]>`select workspace_dir from sessions where id = ${sessionId}`)[0] as {
      workspace_dir: string;
    }
  ).workspace_dir;

describe('tool approvals', () => {
  const bashThenText = (file: string) => {
    suite.h.fake.script(
      { toolCalls: [{ name: 'bash', arguments: { command: `echo approved > ${file}`, description: 'write a file' } }] },
      { text: 'Finished.' },
    );
  };

  it('asks a person for bash; an allowed command runs', async () => {
    const user = await suite.h.createUser('member');
    const { rpc, session } = await sessionFor(user.token, 'Allow');
    bashThenText('allowed.txt');
    await rpc.request('session/prompt', { sessionId: session.id, text: 'run it' });
    const asked = await rpc.waitFor((event) => event.sessionId === session.id && event.event.type === 'permission.asked');
    expect(asked.event).toMatchObject({ tool: 'bash', patterns: ['echo approved > allowed.txt'] });
    if (asked.event.type !== 'permission.asked') throw new Error('unreachable');
    expect(new Date(asked.event.expiresAt).getTime()).toBeGreaterThan(Date.now());
    await rpc.request('permission/reply', { sessionId: session.id, permissionId: asked.event.permissionId, reply: 'once' });
    await rpc.waitFor(idleAfter(session.id, asked.seq));
    expect(readFileSync(path.join(await workspaceOf(session.id), 'allowed.txt'), 'utf8')).toBe('approved\n');
    const replied = rpc.events.find((event) => event.sessionId === session.id && event.event.type === 'permission.replied');
    expect(replied?.event).toMatchObject({ reply: 'once', by: 'user' });
    await expect(
      rpc.request('permission/reply', { sessionId: session.id, permissionId: asked.event.permissionId, reply: 'once' }),
    ).rejects.toMatchObject({
      data: { code: 'CONFLICT' },
    });
    const [row] = await suite.h.db.sql`select status, decided_by, decided_by_user from approvals where id = ${asked.event.permissionId}`;
    expect(row).toMatchObject({ status: 'once', decided_by: 'user', decided_by_user: user.id });
    const audit = await suite.h.db
      .sql`select outcome, payload from audit_events where action = 'tool.approval' and target_id = ${session.id}`;
    expect(audit.map((entry) => entry.payload.by)).toContain('user');
  }, 60_000);

  it('a rejected command does not run and the turn ends', async () => {
    const user = await suite.h.createUser('member');
    const { rpc, session } = await sessionFor(user.token, 'Reject');
    bashThenText('rejected.txt');
    await rpc.request('session/prompt', { sessionId: session.id, text: 'run it' });
    const asked = await rpc.waitFor((event) => event.sessionId === session.id && event.event.type === 'permission.asked');
    if (asked.event.type !== 'permission.asked') throw new Error('unreachable');
    await rpc.request('permission/reply', { sessionId: session.id, permissionId: asked.event.permissionId, reply: 'reject' });
    await rpc.waitFor(idleAfter(session.id, asked.seq));
    expect(existsSync(path.join(await workspaceOf(session.id), 'rejected.txt'))).toBe(false);
    const tool = rpc.events
      .filter(ofSession(session.id))
      .find((event) => event.event.type === 'tool.updated' && event.event.state === 'error');
    expect(tool?.event).toMatchObject({ tool: 'bash' });
  }, 60_000);

  it('an unanswered ask times out, is rejected, and the turn does not hang', async () => {
    const user = await suite.h.createUser('member');
    const { rpc, session } = await sessionFor(user.token, 'Timeout');
    bashThenText('late.txt');
    await rpc.request('session/prompt', { sessionId: session.id, text: 'run it' });
    const asked = await rpc.waitFor((event) => event.sessionId === session.id && event.event.type === 'permission.asked');
    const expired = await rpc.waitFor((event) => event.sessionId === session.id && event.event.type === 'permission.replied', 15_000);
    expect(expired.event).toMatchObject({ reply: 'reject', by: 'timeout' });
    await rpc.waitFor(idleAfter(session.id, asked.seq), 30_000);
    expect(existsSync(path.join(await workspaceOf(session.id), 'late.txt'))).toBe(false);
  }, 60_000);

  it('applies the policy without asking: allowed edits run, denied tools and paths outside the workspace are refused', async () => {
    const user = await suite.h.createUser('member');
    const rpc = await client(user.token);
    // The policy an admin gave the agent (a user's own rules could only make it stricter).
    const agent = await defineAgent(suite.h, {
      name: agentName('policy'),
      systemPrompt: 'You follow the policy.',
      toolPolicy: [
        { tool: '*', action: 'allow' },
        { tool: 'bash', pattern: 'rm *', action: 'deny' },
      ],
    });
    const session = await rpc.request('session/create', { title: 'Policy', agent: agent.name });
    await rpc.request('session/subscribe', { sessionId: session.id });
    suite.h.fake.script(
      { toolCalls: [{ name: 'bash', arguments: { command: 'echo ran > policy.txt', description: 'allowed by policy' } }] },
      { toolCalls: [{ name: 'bash', arguments: { command: 'rm policy.txt', description: 'denied by policy' } }] },
      { text: 'ok' },
    );
    await turn(rpc, session.id, 'go');
    const dir = await workspaceOf(session.id);
    expect(readFileSync(path.join(dir, 'policy.txt'), 'utf8')).toBe('ran\n');
    const replies = rpc.events
      .filter((event) => event.sessionId === session.id && event.event.type === 'permission.replied')
      .map((event) => event.event);
    expect(replies).toEqual([
      expect.objectContaining({ reply: 'once', by: 'policy', tool: 'bash' }),
      expect.objectContaining({ reply: 'reject', by: 'policy', tool: 'bash' }),
    ]);
    expect(rpc.events.some((event) => event.sessionId === session.id && event.event.type === 'permission.asked')).toBe(false);

    suite.h.fake.script(
      { toolCalls: [{ name: 'write', arguments: { filePath: '/tmp/switchboard-escape.txt', content: 'out' } }] },
      { text: 'tried' },
    );
    await turn(rpc, session.id, 'escape');
    expect(existsSync('/tmp/switchboard-escape.txt')).toBe(false);
  }, 90_000);
});

describe('reconnecting', () => {
  it('resubscribes after a disconnect mid-stream with no gap and no duplicate', async () => {
    const user = await suite.h.createUser('member');
    const first = await client(user.token);
    const session = await first.request('session/create', { title: 'Reconnect' });
    await first.request('session/subscribe', { sessionId: session.id });
    const text = Array.from({ length: 60 }, (_, i) => `chunk${i} `).join('');
    suite.h.fake.script({ text, chunks: 60, chunkDelayMs: 40 });
    await first.request('session/prompt', { sessionId: session.id, text: 'stream' });
    await first.waitFor((event) => event.sessionId === session.id && event.event.type === 'text.delta');
    const seen = first.events.filter(ofSession(session.id));
    const lastSeq = Math.max(...seen.map((event) => event.seq));
    await first.close();

    const second = await client(user.token);
    const result = await second.request('session/subscribe', { sessionId: session.id, sinceSeq: lastSeq });
    expect(result.lastSeq).toBeGreaterThanOrEqual(lastSeq);
    const idle = await second.waitFor(idleAfter(session.id, lastSeq), 30_000);
    const rest = second.events.filter(ofSession(session.id));
    const all = [...seen, ...rest].map((event) => event.seq);
    expect(all).toEqual(all.map((_, index) => index + 1));
    expect(textOf([...seen, ...rest], session.id)).toBe(text);
    // The idle ends the turn: everything of the turn (its usage included) was stored before it.
    const stored = await suite.h.request(user.token, 'GET', `/api/v1/sessions/${session.id}/events?sinceSeq=0&limit=5000`);
    expect(stored.body.items.map((event: any) => event.seq)).toEqual(all);
    expect(stored.body.items.at(-1)).toMatchObject({ seq: idle.seq, event: { type: 'status', status: 'idle' } });
    expect(stored.body.items.filter((event: any) => event.event.type === 'usage').length).toBeGreaterThan(0);
  }, 60_000);

  it('tells a client that reads too slowly to resubscribe, instead of buffering without bound', async () => {
    // Over a unix socket the kernel buffers a fixed ~200 KiB, so a stalled reader backs up the server quickly.
    const socketPath = path.join(tmpdir(), `switchboard-rpc-${process.pid}.sock`);
    const relay = createServer();
    relay.on('upgrade', (request, socket, head) => suite.h.app.server.emit('upgrade', request, socket, head));
    await new Promise<void>((resolve) => relay.listen(socketPath, resolve));
    let rpc: RpcClient | undefined;
    try {
      const user = await suite.h.createUser('member');
      rpc = await connectRpc(suite.h.baseUrl, user.token, { socketPath });
      const session = await rpc.request('session/create', { title: 'Slow reader' });
      await rpc.request('session/subscribe', { sessionId: session.id });
      suite.h.fake.script({ text: 'x'.repeat(3_000_000), chunks: 150 });
      const raw = (rpc.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      const prompted = rpc.request('session/prompt', { sessionId: session.id, text: 'flood me' });
      raw.pause();
      await new Promise((resolve) => setTimeout(resolve, 6000));
      raw.resume();
      await prompted;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(rpc.resubscribes).toEqual([{ sessionId: session.id, lastSeq: expect.any(Number) }]);
      const { lastSeq } = rpc.resubscribes[0]!;
      const delivered = rpc.events.filter(ofSession(session.id)).map((event) => event.seq);
      expect(Math.max(...delivered)).toBe(lastSeq);
      await rpc.request('session/subscribe', { sessionId: session.id, sinceSeq: lastSeq });
      await rpc.waitFor(idleAfter(session.id, lastSeq), 60_000);
      const all = rpc.events.filter(ofSession(session.id)).map((event) => event.seq);
      expect(all).toEqual(all.map((_, index) => index + 1));
      // A 3 MB answer overflows the model's context, so OpenCode adds a compaction call; its text follows.
      const text = textOf(rpc.events, session.id);
      expect(text.startsWith('x'.repeat(3_000_000))).toBe(true);
      expect(text.slice(3_000_000)).not.toContain('x');
    } finally {
      rpc?.connection.dispose();
      rpc?.socket.terminate();
      await new Promise((resolve) => relay.close(resolve));
    }
  }, 120_000);
});

describe('budgets in a session', () => {
  it('refuses a prompt up front when the budget is spent, with the figures', async () => {
    const user = await suite.h.createUser('member');
    const { rpc, session } = await sessionFor(user.token, 'Broke');
    await suite.h.request(suite.h.adminToken, 'PUT', `/api/v1/users/${user.id}/budgets/month`, { limitMicros: 50_000_000 });
    await suite.h.db.sql`update budgets set spent_micros = 49800000, reserved_micros = 200000 where user_id = ${user.id}`;
    const error = await rpc.request('session/prompt', { sessionId: session.id, text: 'hi' }).catch((caught: any) => caught);
    expect(error.data.code).toBe('BUDGET_EXCEEDED');
    expect(error.message).toBe('Budget reached: $50.00 of $50.00 used this month (user budget). Ask an admin to raise it.');
    expect(suite.h.fake.requests).toHaveLength(0);
  });

  it('ends the turn with a detailed BUDGET_EXCEEDED event when the gateway refuses a call mid-turn', async () => {
    const user = await suite.h.createUser('member');
    const { rpc, session } = await sessionFor(user.token, 'Runs out');
    await suite.h.request(suite.h.adminToken, 'PUT', `/api/v1/users/${user.id}/budgets/day`, { limitMicros: 30_000 });
    const events = await turn(rpc, session.id, 'hello');
    const refusal = events.find((event) => event.event.type === 'error');
    expect(refusal?.event).toMatchObject({ code: 'BUDGET_EXCEEDED' });
    if (refusal?.event.type !== 'error') throw new Error('unreachable');
    expect(refusal.event.message).toMatch(
      /^Budget reached: \$0\.00 of \$0\.03 used this day \(user budget\)\. Ask an admin to raise it\.$/,
    );
    expect(refusal.event.details).toMatchObject({ budget: { scope: 'user', period: 'day', limitMicros: 30_000 } });
    expect(suite.h.fake.requests).toHaveLength(0);
    const transcript = await suite.h.request(user.token, 'GET', `/api/v1/sessions/${session.id}/events`);
    expect(transcript.body.items.map((event: any) => event.event.type)).toContain('prompt');
  }, 60_000);
});

describe('lifecycle and limits', () => {
  it('archiving revokes the session key', async () => {
    const user = await suite.h.createUser('member');
    const rpc = await client(user.token);
    const session = await rpc.request('session/create', { title: 'Archive me' });
    const [{ id: keyId }] = (await suite.h.db.sql`select id from session_keys where session_id = ${session.id}`) as any;
    const archived = await rpc.request('session/archive', { sessionId: session.id });
    expect(archived.status).toBe('archived');
    const [key] = await suite.h.db.sql`select revoked_at from session_keys where id = ${keyId}`;
    expect(key!.revoked_at).not.toBeNull();
    await expect(rpc.request('session/prompt', { sessionId: session.id, text: 'hi' })).rejects.toMatchObject({
      data: { code: 'CONFLICT' },
    });
    expect((await rpc.request('session/list', {})).items.map((item: any) => item.id)).not.toContain(session.id);
    expect((await rpc.request('session/list', { includeArchived: true })).items.map((item: any) => item.id)).toContain(session.id);
    const issued = await suite.h.db.sql.begin((tx) => suite.h.app.sessionKeys.issue(tx, SYSTEM, user.id, crypto.randomUUID()));
    expect(issued.key).toMatch(/^sbk_/);
  });

  it('refuses unauthenticated upgrades before any frame', async () => {
    await expect(connectRpc(suite.h.baseUrl, null)).rejects.toMatchObject({ status: 401 });
    await expect(connectRpc(suite.h.baseUrl, 'sb_not-a-real-token-at-all-xx')).rejects.toMatchObject({ status: 401 });
    const [denied] = await suite.h.db
      .sql`select count(*)::int as n from audit_events where action = 'auth.denied' and payload->>'url' = '/rpc'`;
    expect(denied!.n).toBeGreaterThanOrEqual(2);
  });

  it('answers invalid params with our error code, and survives oversized frames and floods', async () => {
    const user = await suite.h.createUser('member');
    const rpc = await client(user.token);
    await expect(rpc.request('session/prompt', { sessionId: 'nope', text: '' })).rejects.toMatchObject({
      code: -32602,
      data: { code: 'BAD_REQUEST' },
    });
    await expect(rpc.request('session/nothing', {})).rejects.toMatchObject({ code: -32601 });

    const big = await client(user.token);
    const closed = new Promise<number>((resolve) => big.socket.once('close', (code) => resolve(code)));
    big.socket.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'session/list', params: { padding: 'x'.repeat(100_000) } }));
    expect(await closed).toBe(1009);

    const flood = await client(user.token);
    const results = await Promise.allSettled(Array.from({ length: 120 }, () => flood.request('budget/get', {})));
    const limited = results.filter((result) => result.status === 'rejected' && (result.reason as any).data?.code === 'RATE_LIMITED');
    expect(limited.length).toBeGreaterThan(0);
    expect(results.filter((result) => result.status === 'fulfilled').length).toBeGreaterThan(0);

    const raw = new WebSocket(`${suite.h.baseUrl.replace('http', 'ws')}/rpc`, { headers: { authorization: `Bearer ${user.token}` } });
    await new Promise((resolve) => raw.once('open', resolve));
    const reply = new Promise<string>((resolve) => raw.once('message', (data) => resolve(data.toString())));
    raw.send('{not json');
    expect(JSON.parse(await reply)).toMatchObject({ id: null, error: { code: -32700 } });
    raw.close();

    const healthy = await client(user.token);
    expect(await healthy.request('budget/get', {})).toEqual({ budgets: [] });
  });
});
