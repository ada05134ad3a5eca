import { describe, expect, it } from 'vitest';
import { agentName, defineAgent, requestsWith, sessionKeyOf, startSession, toolNames, toolResults } from '../fixtures/agent-builders.js';
import { useAgentHarness } from '../fixtures/agents.js';
import { turn } from '../fixtures/turns.js';

const suite = useAgentHarness({
  SWITCHBOARD_APPROVAL_TIMEOUT_S: '5',
  SWITCHBOARD_MEMORY_NOTE_MAX_BYTES: '300',
  SWITCHBOARD_MEMORY_TOTAL_MAX_BYTES: '1024',
});

const NOTE = 'Run the tests with `npm test -- --runInBand`; the DB tests flake otherwise.';

describe('agent memory', () => {
  it('keeps what the agent wrote in one session for the next; the user sees, edits and deletes it', async () => {
    const agent = await defineAgent(suite.h, { name: agentName('remembers'), systemPrompt: 'You remember things.', memory: true });
    const user = await suite.h.createUser('member');
    const rpc = await suite.client(user.token);

    const first = await startSession(rpc, { agent: agent.name });
    suite.h.fake.script({ toolCalls: [{ name: 'memory_write', arguments: { key: 'testing', content: NOTE } }] }, { text: 'Noted.' });
    const wrote = await turn(rpc, first.id, 'Remember how to run the tests (first).');
    expect(toolNames(requestsWith(suite.h, '(first)')[0]?.body)).toEqual(
      expect.arrayContaining(['memory_list', 'memory_read', 'memory_write', 'memory_delete']),
    );
    expect(toolResults(wrote)).toEqual([expect.objectContaining({ tool: 'memory_write', state: 'completed' })]);
    expect(toolResults(wrote)[0]?.output).toMatch(/^Saved "testing" \(\d+ bytes; \d+ of 1024 bytes used\)\.$/);

    const second = await startSession(rpc, { agent: agent.name });
    suite.h.fake.script(
      { toolCalls: [{ name: 'memory_list', arguments: {} }] },
      { toolCalls: [{ name: 'memory_read', arguments: { key: 'testing' } }] },
      { text: 'I know how.' },
    );
    const read = await turn(rpc, second.id, 'How do we run the tests (second)?');
    const results = toolResults(read);
    expect(results.map((result) => [result.tool, result.state])).toEqual([
      ['memory_list', 'completed'],
      ['memory_read', 'completed'],
    ]);
    expect(results[0]?.output).toContain('- testing (');
    expect(results[1]?.output).toBe(NOTE);

    // The same notes over REST, and over the extension's RPC methods.
    const base = `/api/v1/agents/${agent.id}/memory`;
    const listed = await suite.h.request(user.token, 'GET', base);
    expect(listed.body).toMatchObject({
      items: [{ key: 'testing', content: NOTE, userId: user.id }],
      limitBytes: 1024,
      noteLimitBytes: 300,
    });
    const edited = await suite.h.request(user.token, 'PUT', `${base}/testing`, { content: 'Use npm test.' });
    expect(edited).toMatchObject({ status: 200, body: { key: 'testing', content: 'Use npm test.', bytes: 13 } });
    expect((await rpc.request('memory/list', { agentId: agent.id })).items).toEqual([
      expect.objectContaining({ content: 'Use npm test.' }),
    ]);
    await rpc.request('memory/put', { agentId: agent.id, key: 'style', content: 'Tabs.' });
    expect(await rpc.request('memory/delete', { agentId: agent.id, key: 'style' })).toEqual({ deleted: true });
    expect((await suite.h.request(user.token, 'DELETE', `${base}/testing`)).status).toBe(200);
    expect((await suite.h.request(user.token, 'GET', `${base}/testing`)).status).toBe(404);

    const audit = await suite.h.db.sql`
      select action, actor_id, payload from audit_events where action like 'memory.%' and target_id = ${agent.id} order by id`;
    expect(audit.map((row) => [row.action, row.payload.via])).toEqual([
      ['memory.write', 'agent'],
      ['memory.write', 'user'],
      ['memory.write', 'user'],
      ['memory.delete', 'user'],
      ['memory.delete', 'user'],
    ]);
    expect(audit[0]).toMatchObject({ actor_id: user.id, payload: { key: 'testing', sessionId: first.id, userId: user.id } });
    expect(JSON.stringify(audit)).not.toContain('runInBand');
  }, 120_000);

  it('keeps each user’s notes to themselves and enforces the size limits', async () => {
    const agent = await defineAgent(suite.h, { name: agentName('limits'), systemPrompt: 'x', memory: true });
    const alice = await suite.h.createUser('member');
    const bob = await suite.h.createUser('member');
    const base = `/api/v1/agents/${agent.id}/memory`;
    expect((await suite.h.request(alice.token, 'PUT', `${base}/a`, { content: 'alice only' })).status).toBe(200);
    expect((await suite.h.request(bob.token, 'GET', base)).body.items).toEqual([]);
    expect((await suite.h.request(bob.token, 'GET', `${base}?userId=${alice.id}`)).status).toBe(403);
    expect((await suite.h.request(suite.h.adminToken, 'GET', `${base}?userId=${alice.id}`)).body.items).toHaveLength(1);

    const tooBig = await suite.h.request(alice.token, 'PUT', `${base}/big`, { content: 'x'.repeat(301) });
    expect(tooBig).toMatchObject({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE', details: { limit: 'note' } } } });
    for (const key of ['n1', 'n2', 'n3'])
      expect((await suite.h.request(alice.token, 'PUT', `${base}/${key}`, { content: 'y'.repeat(300) })).status).toBe(200);
    const full = await suite.h.request(alice.token, 'PUT', `${base}/n4`, { content: 'z'.repeat(200) });
    expect(full).toMatchObject({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE', details: { limit: 'total' } } } });
    expect((await suite.h.request(alice.token, 'PUT', `${base}/n3`, { content: 'shorter' })).status).toBe(200);
    expect((await suite.h.request(alice.token, 'PUT', `${base}/bad key`, { content: 'x' })).status).toBe(400);

    const [denied] = await suite.h.db.sql`
      select outcome from audit_events where action = 'memory.write' and actor_id = ${alice.id} and outcome = 'error' limit 1`;
    expect(denied).toBeDefined();

    // An agent without memory gets no memory server, and the server refuses its key.
    const plain = await defineAgent(suite.h, { name: agentName('forgetful'), systemPrompt: 'x' });
    const rpc = await suite.client(alice.token);
    const session = await startSession(rpc, { agent: plain.name });
    suite.h.fake.script({ text: 'ok' });
    await turn(rpc, session.id, 'Anything to remember (plain)?');
    expect(toolNames(requestsWith(suite.h, '(plain)')[0]?.body).some((tool) => tool.startsWith('memory_'))).toBe(false);
    const refused = await fetch(`${suite.h.baseUrl}/mcp/memory`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await sessionKeyOf(suite.h, session.id)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(refused.status).toBe(403);
  }, 90_000);

  it('tells the agent when a note would not fit, as a tool error it can read', async () => {
    const agent = await defineAgent(suite.h, { name: agentName('overflow'), systemPrompt: 'x', memory: true });
    const user = await suite.h.createUser('member');
    const rpc = await suite.client(user.token);
    const session = await startSession(rpc, { agent: agent.name });
    suite.h.fake.script({ toolCalls: [{ name: 'memory_write', arguments: { key: 'huge', content: 'x'.repeat(400) } }] }, { text: 'ok' });
    const events = await turn(rpc, session.id, 'Save a lot (overflow).');
    const [result] = toolResults(events);
    expect(result?.tool).toBe('memory_write');
    expect(`${result?.output ?? ''}${result?.error ?? ''}`).toContain('a note may hold at most 300 bytes');
    expect((await suite.h.request(user.token, 'GET', `/api/v1/agents/${agent.id}/memory`)).body.items).toEqual([]);
  }, 90_000);
});
