import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  agentName,
  defineAgent,
  type RemoteMcp,
  sessionKeyOf,
  sessionRow,
  startRemoteMcp,
  startSession,
} from '../fixtures/agent-builders.js';
import { useAgentHarness } from '../fixtures/agents.js';
import { idleAfter } from '../fixtures/turns.js';

const suite = useAgentHarness({ SWITCHBOARD_APPROVAL_TIMEOUT_S: '20' });
let remote: RemoteMcp | undefined;
afterAll(() => remote?.close());

const bashAsks = [
  { tool: '*', action: 'allow' as const },
  { tool: 'bash', action: 'ask' as const },
];
const askedIn = (rpc: Awaited<ReturnType<typeof suite.client>>, sessionId: string) =>
  rpc.waitFor((event) => event.sessionId === sessionId && event.event.type === 'permission.asked');
const scriptBash = (file: string) =>
  suite.h.fake.script(
    { toolCalls: [{ name: 'bash', arguments: { command: `echo ran > ${file}`, description: 'write' } }] },
    { text: 'ok' },
  );

describe('the policy admins set is a ceiling', () => {
  it('a member’s own rules cannot loosen it: "allow everything" still asks for bash', async () => {
    const agent = await defineAgent(suite.h, { name: agentName('asks'), systemPrompt: 'x', toolPolicy: bashAsks });
    const member = await suite.h.createUser('member');
    const rpc = await suite.client(member.token);
    const session = await startSession(rpc, { agent: agent.name, policy: [{ tool: '*', action: 'allow' }] });
    scriptBash('loosened.txt');
    await rpc.request('session/prompt', { sessionId: session.id, text: 'run it' });
    const asked = await askedIn(rpc, session.id);
    expect(asked.event).toMatchObject({ tool: 'bash' });
    expect(existsSync(path.join((await sessionRow(suite.h, session.id)).workspace_dir, 'loosened.txt'))).toBe(false);
    if (asked.event.type !== 'permission.asked') throw new Error('unreachable');
    await rpc.request('permission/reply', { sessionId: session.id, permissionId: asked.event.permissionId, reply: 'reject' });
    await rpc.waitFor(idleAfter(session.id, asked.seq));
  }, 60_000);

  it('a member’s own rules can tighten it: their deny holds where the agent allows', async () => {
    const agent = await defineAgent(suite.h, { name: agentName('free'), systemPrompt: 'x', toolPolicy: [{ tool: '*', action: 'allow' }] });
    const member = await suite.h.createUser('member');
    const rpc = await suite.client(member.token);
    const session = await startSession(rpc, { agent: agent.name, policy: [{ tool: 'bash', pattern: 'echo *', action: 'deny' }] });
    scriptBash('tightened.txt');
    await rpc.request('session/prompt', { sessionId: session.id, text: 'run it' });
    const replied = await rpc.waitFor((event) => event.sessionId === session.id && event.event.type === 'permission.replied');
    expect(replied.event).toMatchObject({ tool: 'bash', reply: 'reject', by: 'policy' });
    await rpc.waitFor(idleAfter(session.id, replied.seq));
    expect(existsSync(path.join((await sessionRow(suite.h, session.id)).workspace_dir, 'tightened.txt'))).toBe(false);
  }, 60_000);

  it('an agent can require an admin’s approval for bash: the owner may refuse, not allow; an admin may allow', async () => {
    const agent = await defineAgent(suite.h, {
      name: agentName('admin-approves'),
      systemPrompt: 'x',
      toolPolicy: [
        { tool: '*', action: 'allow' },
        { tool: 'bash', action: 'ask', approver: 'admin' },
      ],
    });
    const member = await suite.h.createUser('member');
    const rpc = await suite.client(member.token);
    const session = await startSession(rpc, { agent: agent.name });
    scriptBash('admin.txt');
    await rpc.request('session/prompt', { sessionId: session.id, text: 'run it' });
    const asked = await askedIn(rpc, session.id);
    if (asked.event.type !== 'permission.asked') throw new Error('unreachable');
    const reply = { sessionId: session.id, permissionId: asked.event.permissionId };
    await expect(rpc.request('permission/reply', { ...reply, reply: 'once' })).rejects.toMatchObject({
      data: { code: 'FORBIDDEN' },
      message: expect.stringMatching(/needs an admin’s approval/),
    });
    await expect(rpc.request('permission/reply', { ...reply, reply: 'always' })).rejects.toMatchObject({ data: { code: 'FORBIDDEN' } });
    const [pending] = await suite.h.db.sql`select status, approver from approvals where id = ${asked.event.permissionId}`;
    expect(pending).toMatchObject({ status: 'pending', approver: 'admin' });
    const admin = await suite.client(suite.h.adminToken);
    await admin.request('permission/reply', { ...reply, reply: 'once' });
    await rpc.waitFor(idleAfter(session.id, asked.seq));
    expect(readFileSync(path.join((await sessionRow(suite.h, session.id)).workspace_dir, 'admin.txt'), 'utf8')).toBe('ran\n');
  }, 60_000);
});

describe('answers to asks', () => {
  it('naming another session’s ask changes nothing: the owner can still answer it', async () => {
    const agent = await defineAgent(suite.h, { name: agentName('asks'), systemPrompt: 'x', toolPolicy: bashAsks });
    const owner = await suite.h.createUser('member');
    const mate = await suite.h.createUser('member');
    const ownerRpc = await suite.client(owner.token);
    const mateRpc = await suite.client(mate.token);
    const session = await startSession(ownerRpc, { agent: agent.name });
    const own = await mateRpc.request('session/create', { title: 'Mine' });
    scriptBash('owner.txt');
    await ownerRpc.request('session/prompt', { sessionId: session.id, text: 'run it' });
    const asked = await askedIn(ownerRpc, session.id);
    if (asked.event.type !== 'permission.asked') throw new Error('unreachable');
    await expect(
      mateRpc.request('permission/reply', { sessionId: own.id, permissionId: asked.event.permissionId, reply: 'reject' }),
    ).rejects.toMatchObject({ data: { code: 'CONFLICT' } });
    const [row] = await suite.h.db.sql`select status from approvals where id = ${asked.event.permissionId}`;
    expect(row?.status).toBe('pending');
    await ownerRpc.request('permission/reply', { sessionId: session.id, permissionId: asked.event.permissionId, reply: 'once' });
    await ownerRpc.waitFor(idleAfter(session.id, asked.seq));
    const audit = await suite.h.db.sql`
      select actor_id from audit_events where action = 'tool.approval' and target_id = ${session.id} and payload->>'by' = 'user'`;
    expect(audit.map((entry) => entry.actor_id)).toEqual([owner.id]);
  }, 60_000);
});

describe('the session key', () => {
  it('is not in the workspace, and session/file refuses the files the control plane writes there', async () => {
    const member = await suite.h.createUser('member');
    const rpc = await suite.client(member.token);
    const session = await startSession(rpc, {});
    const { workspace_dir: dir } = await sessionRow(suite.h, session.id);
    const key = await sessionKeyOf(suite.h, session.id);
    expect(key).toMatch(/^sbk_/);
    expect(readFileSync(path.join(dir, 'opencode.json'), 'utf8')).not.toContain(key);
    for (const file of ['opencode.json', '.switchboard/memory.md', '.git/config', '.opencode/x']) {
      await expect(rpc.request('session/file', { sessionId: session.id, path: file })).rejects.toMatchObject({
        data: { code: 'FORBIDDEN' },
      });
    }
  }, 60_000);

  it('cannot call an MCP tool through the proxy past the policy, and every proxied call is audited', async () => {
    remote = await startRemoteMcp();
    const agent = await defineAgent(suite.h, {
      name: agentName('tracked'),
      systemPrompt: 'x',
      toolPolicy: [
        { tool: '*', action: 'allow' },
        { tool: 'tracker_whoami', action: 'ask' },
        { tool: 'tracker_delete', action: 'deny' },
      ],
      mcpServers: { tracker: { type: 'remote', url: remote.url, headers: {} } },
    });
    const member = await suite.h.createUser('member');
    const rpc = await suite.client(member.token);
    const session = await startSession(rpc, { agent: agent.name });
    const headers = { authorization: `Bearer ${await sessionKeyOf(suite.h, session.id)}`, 'content-type': 'application/json' };
    const call = (name: string) =>
      fetch(`${suite.h.baseUrl}/mcp/agents/tracker`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name, arguments: {} } }),
      });
    const before = remote.requests.length;
    const unapproved = await call('whoami');
    expect(unapproved.status).toBe(403);
    expect(((await unapproved.json()) as any).error.message).toMatch(/needs a person's approval/);
    const denied = await call('delete');
    expect(denied.status).toBe(403);
    expect(remote.requests.length).toBe(before);
    // Something the policy allows goes through, audited too.
    const listed = await fetch(`${suite.h.baseUrl}/mcp/agents/tracker`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'status', arguments: {} } }),
    });
    expect(listed.status).toBe(200);
    expect(remote.requests.length).toBe(before + 1);
    const audit = await suite.h.db.sql`
      select outcome, payload from audit_events where action = 'mcp.call' and target_id = ${session.id} order by id`;
    expect(audit.map((entry) => [entry.payload.tool, entry.outcome, entry.payload.decision])).toEqual([
      ['tracker_whoami', 'denied', 'not_approved'],
      ['tracker_delete', 'denied', 'deny'],
      ['tracker_status', 'ok', 'allow'],
    ]);
  }, 60_000);
});
