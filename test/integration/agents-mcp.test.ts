import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  agentName,
  defineAgent,
  ECHO_SERVER,
  putSecret,
  type RemoteMcp,
  requestsWith,
  sessionKeyOf,
  sessionRow,
  startRemoteMcp,
  startSession,
  toolNames,
  toolResults,
} from '../fixtures/agent-builders.js';
import { useAgentHarness } from '../fixtures/agents.js';
import { turn } from '../fixtures/turns.js';

const suite = useAgentHarness({ SWITCHBOARD_APPROVAL_TIMEOUT_S: '5' });
const LOCAL_SECRET = 'echo-token-4b1f9c2d7e';
const REMOTE_SECRET = 'remote-token-8a3e6f1c0b';
let remote: RemoteMcp | undefined;
afterAll(() => remote?.close());

/** Every place a secret must never show: the audit trail, API answers, and the workspace the agent reads. */
async function expectNowhere(secret: string, agentId: string, workspace: string) {
  const [audit] = await suite.h.db.sql`select count(*)::int as n from audit_events where payload::text like ${`%${secret}%`}`;
  expect(audit?.n).toBe(0);
  for (const url of [`/api/v1/agents/${agentId}`, '/api/v1/agents', '/api/v1/secrets', `/api/v1/agents/${agentId}/versions`]) {
    expect(JSON.stringify((await suite.h.request(suite.h.adminToken, 'GET', url)).body)).not.toContain(secret);
  }
  expect(readFileSync(path.join(workspace, 'opencode.json'), 'utf8')).not.toContain(secret);
}

describe('MCP servers of an agent', () => {
  it('runs a local stdio server with a secret from the vault in its environment; the tool is called', async () => {
    const secret = await putSecret(suite.h, 'ECHO_TOKEN', LOCAL_SECRET);
    expect(secret).toMatchObject({ name: 'ECHO_TOKEN', last4: LOCAL_SECRET.slice(-4) });
    const agent = await defineAgent(suite.h, {
      name: agentName('mcp-local'),
      systemPrompt: 'You use the echo tools.',
      mcpServers: {
        echo: {
          type: 'local',
          command: ['node', ECHO_SERVER],
          environment: {
            ECHO_TOKEN: { secret: 'ECHO_TOKEN' },
            TOKEN_HEADER: { secret: 'ECHO_TOKEN', prefix: 'Bearer ' },
            PLAIN: 'plain-{env:HOME}',
          },
        },
      },
    });
    expect(agent.mcpServers.echo.environment.ECHO_TOKEN).toEqual({ secret: 'ECHO_TOKEN' });
    const user = await suite.h.createUser('member');
    const rpc = await suite.client(user.token);
    const session = await startSession(rpc, { agent: agent.name });
    suite.h.fake.script(
      { toolCalls: [{ name: 'echo_echo', arguments: { text: 'ping' } }] },
      { toolCalls: [{ name: 'echo_env', arguments: { name: 'ECHO_TOKEN' } }] },
      { toolCalls: [{ name: 'echo_env', arguments: { name: 'TOKEN_HEADER' } }] },
      { toolCalls: [{ name: 'echo_env', arguments: { name: 'PLAIN' } }] },
      { text: 'Done.' },
    );
    const events = await turn(rpc, session.id, 'Echo ping and show the token (local).');
    expect(toolNames(requestsWith(suite.h, '(local)')[0]?.body)).toEqual(expect.arrayContaining(['echo_echo', 'echo_env']));
    expect(toolResults(events).map((result) => [result.tool, result.state, result.output])).toEqual([
      ['echo_echo', 'completed', 'echo: ping'],
      ['echo_env', 'completed', `ECHO_TOKEN=${LOCAL_SECRET}`],
      ['echo_env', 'completed', `TOKEN_HEADER=Bearer ${LOCAL_SECRET}`],
      // A plain value is passed as written: OpenCode's {env:…} substitution does not reach it.
      ['echo_env', 'completed', 'PLAIN=plain-{env:HOME}'],
    ]);

    const { workspace_dir: workspace } = await sessionRow(suite.h, session.id);
    await expectNowhere(LOCAL_SECRET, agent.id, workspace);
    const [use] = await suite.h.db.sql`select payload from audit_events where action = 'secret.use' and target_id = ${session.id}`;
    expect(use?.payload).toMatchObject({ agentId: agent.id, agentVersion: 1, secrets: ['ECHO_TOKEN'] });

    // The value sits in a 0600 file outside the workspace, and is gone once the session is archived.
    const config = JSON.parse(readFileSync(path.join(workspace, 'opencode.json'), 'utf8'));
    const reference = /^\{file:(.+)\}$/.exec(config.mcp.echo.environment.ECHO_TOKEN)?.[1] as string;
    expect(path.relative(workspace, reference).startsWith('..')).toBe(true);
    expect(readFileSync(reference, 'utf8')).toBe(LOCAL_SECRET);
    await rpc.request('session/archive', { sessionId: session.id });
    expect(() => readFileSync(reference)).toThrow();
  }, 90_000);

  it('reaches a remote server through the control plane, which adds the secret header the workspace never holds', async () => {
    remote = await startRemoteMcp();
    await putSecret(suite.h, 'REMOTE_TOKEN', REMOTE_SECRET);
    const agent = await defineAgent(suite.h, {
      name: agentName('mcp-remote'),
      systemPrompt: 'You use the remote tools.',
      mcpServers: {
        tracker: { type: 'remote', url: remote.url, headers: { authorization: { secret: 'REMOTE_TOKEN', prefix: 'Bearer ' } } },
      },
    });
    const user = await suite.h.createUser('member');
    const rpc = await suite.client(user.token);
    const session = await startSession(rpc, { agent: agent.name });
    suite.h.fake.script({ toolCalls: [{ name: 'tracker_whoami', arguments: {} }] }, { text: 'Done.' });
    const events = await turn(rpc, session.id, 'Who am I on the tracker (remote)?');

    expect(toolResults(events).map((result) => [result.tool, result.state, result.output])).toEqual([
      ['tracker_whoami', 'completed', `authorization seen: Bearer ${REMOTE_SECRET}`],
    ]);
    expect(remote.requests.map((request) => request.body?.method).filter(Boolean)).toEqual(
      expect.arrayContaining(['initialize', 'tools/list', 'tools/call']),
    );
    const { workspace_dir: workspace } = await sessionRow(suite.h, session.id);
    await expectNowhere(REMOTE_SECRET, agent.id, workspace);
    expect(readFileSync(path.join(workspace, 'opencode.json'), 'utf8')).not.toContain(remote.url);

    // The proxy answers only the session's own key, and only for that agent's servers.
    const proxy = `${suite.h.baseUrl}/mcp/agents/tracker`;
    const ping = { jsonrpc: '2.0', id: 1, method: 'ping' };
    expect((await fetch(proxy, { method: 'POST', body: JSON.stringify(ping) })).status).toBe(401);
    const config = JSON.parse(readFileSync(path.join(workspace, 'opencode.json'), 'utf8'));
    expect(config.mcp.tracker.headers.authorization).toMatch(/^Bearer \{file:/);
    const headers = { authorization: `Bearer ${await sessionKeyOf(suite.h, session.id)}`, 'content-type': 'application/json' };
    expect((await fetch(`${suite.h.baseUrl}/mcp/agents/other`, { method: 'POST', headers, body: JSON.stringify(ping) })).status).toBe(404);
    await rpc.request('session/archive', { sessionId: session.id });
    expect((await fetch(proxy, { method: 'POST', headers, body: JSON.stringify(ping) })).status).toBe(401);
  }, 90_000);
});

describe('the secret store', () => {
  it('is for admins; it shows names and last four characters, and keeps secrets an agent uses', async () => {
    const member = await suite.h.createUser('member');
    expect((await suite.h.request(member.token, 'PUT', '/api/v1/secrets', { name: 'MINE', value: 'member-value-123' })).status).toBe(403);
    expect((await suite.h.request(member.token, 'GET', '/api/v1/secrets')).status).toBe(403);

    const created = await suite.h.request(suite.h.adminToken, 'PUT', '/api/v1/secrets', { name: 'ROTATING', value: 'first-value-0001' });
    expect(created.status).toBe(201);
    const replaced = await suite.h.request(suite.h.adminToken, 'PUT', '/api/v1/secrets', { name: 'ROTATING', value: 'second-value-0002' });
    expect(replaced).toMatchObject({ status: 200, body: { name: 'ROTATING', last4: '0002', updatedBy: suite.h.adminId } });
    const listed = await suite.h.request(suite.h.adminToken, 'GET', '/api/v1/secrets');
    expect(listed.body.items.find((item: any) => item.name === 'ROTATING')).toMatchObject({ last4: '0002' });
    expect(JSON.stringify(listed.body)).not.toContain('second-value');
    expect((await suite.h.request(suite.h.adminToken, 'PUT', '/api/v1/secrets', { name: 'x y', value: '12345678' })).status).toBe(400);

    const agent = await defineAgent(suite.h, {
      name: agentName('uses-secret'),
      systemPrompt: 'x',
      mcpServers: { s: { type: 'local', command: ['node', ECHO_SERVER], environment: { T: { secret: 'ROTATING' } } } },
    });
    const inUse = await suite.h.request(suite.h.adminToken, 'DELETE', '/api/v1/secrets/ROTATING');
    expect(inUse.status).toBe(409);
    expect(inUse.body.error.message).toContain(agent.name);
    await suite.h.request(suite.h.adminToken, 'DELETE', `/api/v1/agents/${agent.id}`);
    expect((await suite.h.request(suite.h.adminToken, 'DELETE', '/api/v1/secrets/ROTATING')).status).toBe(200);
    const audit = await suite.h.db
      .sql`select action, payload from audit_events where action like 'secret.%' and payload->>'name' = 'ROTATING' order by id`;
    expect(audit.map((row) => row.action)).toEqual(['secret.set', 'secret.set', 'secret.delete']);
    expect(JSON.stringify(audit)).not.toMatch(/first-value|second-value/);
  });
});
