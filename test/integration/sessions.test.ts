import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useAgentHarness } from '../fixtures/agents.js';
import { idle, lastUserText, ofSession, textOf, turn } from '../fixtures/turns.js';

const suite = useAgentHarness({ SWITCHBOARD_APPROVAL_TIMEOUT_S: '3' });
const client = (token: string) => suite.client(token);

describe('a session on the shared harness', () => {
  it('runs a full turn with a tool call and streamed text, metered to the user and the session', async () => {
    const user = await suite.h.createUser('member');
    const rpc = await client(user.token);
    const session = await rpc.request('session/create', { title: 'First turn' });
    expect(session).toMatchObject({ title: 'First turn', model: 'sb-coder', status: 'idle', userId: user.id });
    await rpc.request('session/subscribe', { sessionId: session.id, sinceSeq: 0 });
    suite.h.fake.script(
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

    const [row] = await suite.h.db.sql<{ workspace_dir: string }[]>`select workspace_dir from sessions where id = ${session.id}`;
    expect(readFileSync(path.join(row!.workspace_dir, 'hello.txt'), 'utf8')).toBe('Hello from the agent\n');
    const usage = await suite.h.db.sql`select * from usage_events where session_id = ${session.id}`;
    expect(usage.length).toBe(2);
    expect(usage.every((call) => call.user_id === user.id && call.outcome === 'ok')).toBe(true);
    const [{ harness_session_id: harnessSessionId }] = (await suite.h.db
      .sql`select harness_session_id from sessions where id = ${session.id}`) as any;
    expect(usage.every((call) => call.harness_session_id === harnessSessionId)).toBe(true);
    expect(suite.h.fake.requests[0]!.headers['x-session-id']).toBeUndefined();
    expect(existsSync(path.join(row!.workspace_dir, '.opencode', 'node_modules'))).toBe(false);
  }, 90_000);
});

describe('isolation between users', () => {
  it('runs two users in parallel with separate workspaces and separate spend', async () => {
    const alice = await suite.h.createUser('member');
    const bob = await suite.h.createUser('member');
    const [ra, rb] = [await client(alice.token), await client(bob.token)];
    const sa = await ra.request('session/create', { title: 'Alice' });
    const sb = await rb.request('session/create', { title: 'Bob' });
    await ra.request('session/subscribe', { sessionId: sa.id });
    await rb.request('session/subscribe', { sessionId: sb.id });
    suite.h.fake.setDefault((request) => {
      const text = lastUserText(request.body);
      const who = text.includes('alice') ? 'alice' : 'bob';
      const wrote = (request.body.messages ?? []).some((message: any) => message.role === 'tool');
      if (!wrote) return { toolCalls: [{ name: 'write', arguments: { filePath: `${who}.txt`, content: `${who}\n` } }], chunkDelayMs: 20 };
      return { text: `done for ${who}`, chunks: 5, chunkDelayMs: 20, usage: { input: who === 'alice' ? 1000 : 3000, output: 10 } };
    });
    await Promise.all([turn(ra, sa.id, 'write alice'), turn(rb, sb.id, 'write bob')]);
    expect(textOf(ra.events, sa.id)).toBe('done for alice');
    expect(textOf(rb.events, sb.id)).toBe('done for bob');
    expect(rb.events.some(ofSession(sa.id))).toBe(false);

    const dirs = await suite.h.db.sql<
      { id: string; workspace_dir: string }[]
    >`select id, workspace_dir from sessions where id in (${sa.id}, ${sb.id})`;
    const dirOf = (id: string) => dirs.find((row) => row.id === id)!.workspace_dir;
    expect(dirOf(sa.id)).not.toBe(dirOf(sb.id));
    expect(existsSync(path.join(dirOf(sa.id), 'alice.txt'))).toBe(true);
    expect(existsSync(path.join(dirOf(sa.id), 'bob.txt'))).toBe(false);
    expect(existsSync(path.join(dirOf(sb.id), 'bob.txt'))).toBe(true);

    const spend = await suite.h.db.sql<{ user_id: string; session_id: string; cost: bigint }[]>`
      select user_id, session_id, sum(cost_micros)::bigint as cost from usage_events where session_id in (${sa.id}, ${sb.id}) group by user_id, session_id`;
    expect(spend.find((row) => row.session_id === sa.id)?.user_id).toBe(alice.id);
    expect(spend.find((row) => row.session_id === sb.id)?.user_id).toBe(bob.id);
    expect(spend.find((row) => row.session_id === sb.id)!.cost).toBeGreaterThan(spend.find((row) => row.session_id === sa.id)!.cost);
  }, 90_000);

  it('does not let another user subscribe to, prompt, abort or read a session; a teammate may follow it', async () => {
    const owner = await suite.h.createUser('member');
    const stranger = await suite.h.createUser('member');
    const teammate = await suite.h.createUser('member');
    const team = await suite.h.request(suite.h.adminToken, 'POST', '/api/v1/teams', { name: `Shared ${Date.now()}` });
    for (const member of [owner, teammate])
      await suite.h.request(suite.h.adminToken, 'POST', `/api/v1/teams/${team.body.id}/members`, { userId: member.id });
    const ro = await client(owner.token);
    const session = await ro.request('session/create', { title: 'Mine', teamId: team.body.id });
    const rs = await client(stranger.token);
    for (const [method, params] of [
      ['session/subscribe', { sessionId: session.id }],
      ['session/prompt', { sessionId: session.id, text: 'hi' }],
      ['session/abort', { sessionId: session.id }],
      ['session/get', { sessionId: session.id }],
    ] as const) {
      await expect(rs.request(method, params)).rejects.toMatchObject({ code: -32004, data: { code: 'NOT_FOUND' } });
    }
    expect((await rs.request('session/list', {})).items.map((item: any) => item.id)).not.toContain(session.id);
    expect((await suite.h.request(stranger.token, 'GET', `/api/v1/sessions/${session.id}/events`)).status).toBe(404);

    const rt = await client(teammate.token);
    expect(await rt.request('session/subscribe', { sessionId: session.id })).toMatchObject({ lastSeq: expect.any(Number) });
    expect((await rt.request('session/list', {})).items.map((item: any) => item.id)).toContain(session.id);
    await expect(rt.request('session/prompt', { sessionId: session.id, text: 'hi' })).rejects.toMatchObject({
      data: { code: 'FORBIDDEN' },
    });
    const [key] = await suite.h.db.sql`select count(*)::int as n from session_keys where session_id = ${session.id}`;
    expect(key!.n).toBe(1);
  });
});

describe('turn control', () => {
  it('aborts a running turn; the partial text is kept and the session is usable again', async () => {
    const user = await suite.h.createUser('member');
    const rpc = await client(user.token);
    const session = await rpc.request('session/create', { title: 'Abort me' });
    await rpc.request('session/subscribe', { sessionId: session.id });
    suite.h.fake.script({ text: 'word '.repeat(200), chunks: 200, chunkDelayMs: 50 });
    await rpc.request('session/prompt', { sessionId: session.id, text: 'talk a lot' });
    await rpc.waitFor((event) => event.sessionId === session.id && event.event.type === 'text.delta');
    expect(await rpc.request('session/abort', { sessionId: session.id })).toEqual({ aborted: true });
    const stopped = await rpc.waitFor(idle(session.id), 30_000);
    expect(stopped.event).toMatchObject({ status: 'idle' });
    const partial = textOf(rpc.events, session.id);
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan('word '.repeat(200).length);
    suite.h.fake.script({ text: 'Back again.' });
    const next = await turn(rpc, session.id, 'still there?');
    expect(next.map((event) => (event.event.type === 'text.delta' ? event.event.delta : '')).join('')).toBe('Back again.');
    const [audit] = await suite.h.db
      .sql`select count(*)::int as n from audit_events where action = 'session.abort' and target_id = ${session.id}`;
    expect(audit!.n).toBe(1);
  }, 90_000);
});
