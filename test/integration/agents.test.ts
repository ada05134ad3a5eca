import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  agentName,
  defineAgent,
  ECHO_SERVER,
  requestsWith,
  sessionRow,
  startSession,
  systemText,
  toolNames,
  userText,
} from '../fixtures/agent-builders.js';
import { useAgentHarness } from '../fixtures/agents.js';
import { turn } from '../fixtures/turns.js';

const suite = useAgentHarness({ SWITCHBOARD_APPROVAL_TIMEOUT_S: '5' });

describe('an agent materialized into its session', () => {
  it('makes the agent prompt the system message, not text in the conversation', async () => {
    const prompt = 'You are Reviewer-7Q. Review diffs for security issues and answer in bullet points.';
    const agent = await defineAgent(suite.h, { name: agentName('reviewer'), description: 'Security review', systemPrompt: prompt });
    expect(agent).toMatchObject({ version: 1, currentVersion: 1, systemPrompt: prompt, teamId: null });
    const user = await suite.h.createUser('member');
    const rpc = await suite.client(user.token);
    const session = await startSession(rpc, { agent: agent.name });
    expect(session).toMatchObject({ agent: agent.name, agentId: agent.id, agentVersion: 1, model: 'sb-coder' });

    suite.h.fake.script({ text: 'Looks fine.' });
    await turn(rpc, session.id, 'Please review the login handler.');
    const [first] = requestsWith(suite.h, 'login handler');
    const messages = first?.body.messages ?? [];
    expect(messages[0]).toMatchObject({ role: 'system' });
    expect(systemText(first?.body).startsWith(prompt)).toBe(true);
    expect(userText(first?.body)).toContain('Please review the login handler.');
    expect(userText(first?.body)).not.toContain('Reviewer-7Q');

    const config = JSON.parse(readFileSync(path.join((await sessionRow(suite.h, session.id)).workspace_dir, 'opencode.json'), 'utf8'));
    expect(config.agent[agent.name]).toMatchObject({ mode: 'primary', model: 'switchboard/sb-coder' });
    expect(JSON.stringify(config)).not.toContain('Reviewer-7Q');
  }, 90_000);

  it('does not offer a tool its policy denies, and still offers the others', async () => {
    const agent = await defineAgent(suite.h, {
      name: agentName('no-shell'),
      systemPrompt: 'You never run shell commands.',
      toolPolicy: [
        { tool: '*', action: 'allow' },
        { tool: 'bash', action: 'deny' },
      ],
    });
    const user = await suite.h.createUser('member');
    const rpc = await suite.client(user.token);
    const session = await startSession(rpc, { agent: agent.name });
    suite.h.fake.script({ text: 'ok' });
    await turn(rpc, session.id, 'List the files.');
    const [first] = requestsWith(suite.h, 'List the files.');
    const tools = toolNames(first?.body);
    expect(tools).not.toContain('bash');
    expect(tools).toEqual(expect.arrayContaining(['read', 'edit', 'write', 'glob']));

    const config = JSON.parse(readFileSync(path.join((await sessionRow(suite.h, session.id)).workspace_dir, 'opencode.json'), 'utf8'));
    expect(config.agent[agent.name].permission).toEqual({ bash: 'deny' });
  }, 90_000);

  it('keeps a skill and an MCP server of agent A out of agent B’s session on the same harness', async () => {
    const a = await defineAgent(suite.h, {
      name: agentName('agent-a'),
      systemPrompt: 'You are agent A.',
      skills: [
        {
          name: 'tabs-style',
          description: 'House style for indentation',
          instructions: 'SKILL-A-MARKER: always indent with tabs. See examples/tabs.md.',
          files: [{ path: 'examples/tabs.md', content: 'A-FILE-MARKER\n' }],
        },
      ],
      mcpServers: { echo: { type: 'local', command: ['node', ECHO_SERVER] } },
    });
    const b = await defineAgent(suite.h, {
      name: agentName('agent-b'),
      systemPrompt: 'You are agent B.',
      skills: [{ name: 'spaces-style', instructions: 'SKILL-B-MARKER: always indent with two spaces.' }],
    });
    const user = await suite.h.createUser('member');
    const rpc = await suite.client(user.token);
    const sa = await startSession(rpc, { agent: a.name });
    const sb = await startSession(rpc, { agent: b.name });
    await Promise.all([turn(rpc, sa.id, 'Format the file (A).'), turn(rpc, sb.id, 'Format the file (B).')]);

    const [ra] = requestsWith(suite.h, '(A)');
    const [rb] = requestsWith(suite.h, '(B)');
    expect(systemText(ra?.body)).toContain('SKILL-A-MARKER');
    expect(systemText(rb?.body)).toContain('SKILL-B-MARKER');
    expect(JSON.stringify(rb?.body)).not.toContain('SKILL-A-MARKER');
    expect(JSON.stringify(ra?.body)).not.toContain('SKILL-B-MARKER');
    expect(toolNames(ra?.body)).toEqual(expect.arrayContaining(['echo_echo', 'echo_env']));
    expect(toolNames(rb?.body).some((tool) => tool.startsWith('echo_'))).toBe(false);

    const dirA = (await sessionRow(suite.h, sa.id)).workspace_dir;
    const dirB = (await sessionRow(suite.h, sb.id)).workspace_dir;
    expect(readFileSync(path.join(dirA, '.switchboard/skills/tabs-style/examples/tabs.md'), 'utf8')).toBe('A-FILE-MARKER\n');
    expect(existsSync(path.join(dirB, '.switchboard/skills/tabs-style'))).toBe(false);
    expect(existsSync(path.join(dirB, '.switchboard/skills/spaces-style/SKILL.md'))).toBe(true);
    expect(readFileSync(path.join(dirB, 'opencode.json'), 'utf8')).not.toContain('echo');
    // Skill files are ours, not the agent's changes.
    expect((await rpc.request('session/changes', { sessionId: sa.id })).files).toEqual([]);
  }, 90_000);
});

describe('versions', () => {
  it('gives a session the version it started with; a change makes a new version for new sessions', async () => {
    const agent = await defineAgent(suite.h, { name: agentName('versioned'), systemPrompt: 'PROMPT-V1 You are careful.' });
    const user = await suite.h.createUser('member');
    const rpc = await suite.client(user.token);
    const s1 = await startSession(rpc, { agent: agent.name });

    const same = await suite.h.request(suite.h.adminToken, 'PATCH', `/api/v1/agents/${agent.id}`, {
      systemPrompt: 'PROMPT-V1 You are careful.',
    });
    expect(same.body).toMatchObject({ version: 1 });
    const updated = await suite.h.request(suite.h.adminToken, 'PATCH', `/api/v1/agents/${agent.id}`, {
      systemPrompt: 'PROMPT-V2 You are bold.',
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ version: 2, currentVersion: 2, systemPrompt: 'PROMPT-V2 You are bold.' });

    const s2 = await startSession(rpc, { agent: agent.name });
    expect(s2).toMatchObject({ agentId: agent.id, agentVersion: 2 });
    expect(await rpc.request('session/get', { sessionId: s1.id })).toMatchObject({ agentId: agent.id, agentVersion: 1 });

    await turn(rpc, s1.id, 'hello from the first session');
    await turn(rpc, s2.id, 'hello from the second session');
    expect(systemText(requestsWith(suite.h, 'first session')[0]?.body)).toContain('PROMPT-V1');
    expect(systemText(requestsWith(suite.h, 'second session')[0]?.body)).toContain('PROMPT-V2');

    const v1 = await suite.h.request(user.token, 'GET', `/api/v1/agents/${agent.id}?version=1`);
    expect(v1.body).toMatchObject({ version: 1, currentVersion: 2, systemPrompt: 'PROMPT-V1 You are careful.' });
    const versions = await suite.h.request(user.token, 'GET', `/api/v1/agents/${agent.id}/versions`);
    expect(versions.body.items.map((item: any) => item.version)).toEqual([2, 1]);
    const audit = await suite.h.db
      .sql`select payload from audit_events where action = 'agent.update' and target_id = ${agent.id} order by id`;
    expect(audit.map((row) => row.payload.changed)).toEqual([[], ['systemPrompt']]);
    await expect(suite.h.db.sql`update agent_versions set system_prompt = 'x' where agent_id = ${agent.id}`).rejects.toThrow(/immutable/);
  }, 90_000);
});

describe('who may see and change agents', () => {
  it('lets members read and admins write; a team’s agent is hidden from everyone else', async () => {
    const member = await suite.h.createUser('member');
    const teammate = await suite.h.createUser('member');
    const denied = await suite.h.request(member.token, 'POST', '/api/v1/agents', { name: agentName('nope'), systemPrompt: 'x' });
    expect(denied.status).toBe(403);
    const [deniedRow] = await suite.h.db.sql`select outcome from audit_events where action = 'agent.create' and actor_id = ${member.id}`;
    expect(deniedRow).toMatchObject({ outcome: 'denied' });

    const team = await suite.h.request(suite.h.adminToken, 'POST', '/api/v1/teams', { name: `Agents team ${Date.now()}` });
    await suite.h.request(suite.h.adminToken, 'POST', `/api/v1/teams/${team.body.id}/members`, { userId: teammate.id });
    const open = await defineAgent(suite.h, { name: agentName('for-all'), systemPrompt: 'For everyone.' });
    const hidden = await defineAgent(suite.h, { name: agentName('team-only'), systemPrompt: 'For the team.', teamId: team.body.id });

    const listed = (await suite.h.request(member.token, 'GET', '/api/v1/agents')).body.items.map((item: any) => item.name);
    expect(listed).toContain(open.name);
    expect(listed).not.toContain(hidden.name);
    expect((await suite.h.request(member.token, 'GET', `/api/v1/agents/${hidden.id}`)).status).toBe(404);
    expect((await suite.h.request(member.token, 'PATCH', `/api/v1/agents/${open.id}`, { description: 'x' })).status).toBe(403);
    expect((await suite.h.request(teammate.token, 'GET', `/api/v1/agents/${hidden.id}`)).status).toBe(200);

    const rpc = await suite.client(member.token);
    const agents = await rpc.request('agent/list', {});
    expect(agents.items.find((item: any) => item.name === open.name)).toMatchObject({ id: open.id, version: 1, memory: false });
    await expect(rpc.request('session/create', { title: 'x', agent: hidden.name })).rejects.toMatchObject({
      data: { code: 'BAD_REQUEST' },
      message: expect.stringContaining(hidden.name),
    });
    await expect(rpc.request('session/create', { title: 'x', agent: 'no-such-agent' })).rejects.toMatchObject({
      message: expect.stringContaining('no-such-agent'),
    });
    expect(await rpc.request('session/create', { title: 'Built-in', agent: 'plan' })).toMatchObject({ agent: 'plan', agentId: null });
    const teamRpc = await suite.client(teammate.token);
    expect(await teamRpc.request('session/create', { title: 'Team agent', agent: hidden.name })).toMatchObject({ agentId: hidden.id });
  }, 60_000);

  it('refuses bad definitions with the field named', async () => {
    const name = agentName('bad');
    const cases: [unknown, string][] = [
      [{ name, systemPrompt: 'x', model: 'no-such-model' }, 'model'],
      [
        { name, systemPrompt: 'x', mcpServers: { s: { type: 'local', command: ['x'], environment: { T: { secret: 'MISSING_ONE' } } } } },
        'mcpServers.s.environment.T',
      ],
      [{ name, systemPrompt: 'x', mcpServers: { memory: { type: 'local', command: ['x'] } } }, 'mcpServers'],
      [{ name, systemPrompt: 'x', surprise: true }, ''],
      [{ name: 'Bad Name', systemPrompt: 'x' }, 'name'],
    ];
    for (const [body, field] of cases) {
      const response = await suite.h.request(suite.h.adminToken, 'POST', '/api/v1/agents', body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.code).toBe('BAD_REQUEST');
      expect(JSON.stringify(response.body.error.details.issues)).toContain(field);
    }
    await defineAgent(suite.h, { name, systemPrompt: 'x' });
    expect((await suite.h.request(suite.h.adminToken, 'POST', '/api/v1/agents', { name, systemPrompt: 'y' })).status).toBe(409);

    const paths = Object.keys((await suite.h.request(null, 'GET', '/api/v1/openapi.json')).body.paths);
    expect(paths).toEqual(expect.arrayContaining(['/api/v1/agents', '/api/v1/agents/{id}/memory/{key}', '/api/v1/secrets']));
    expect(paths.some((route) => route.startsWith('/mcp'))).toBe(false);
  });

  it('stops a session at its agent’s budget: the call that would go past the cap is refused', async () => {
    const agent = await defineAgent(suite.h, {
      name: agentName('capped'),
      systemPrompt: 'You are frugal.',
      maxBudgetPerSessionMicros: 20_000,
    });
    const user = await suite.h.createUser('member');
    const rpc = await suite.client(user.token);
    const session = await startSession(rpc, { agent: agent.name });
    suite.h.fake.script(
      { toolCalls: [{ name: 'write', arguments: { filePath: 'a.txt', content: 'a' } }], usage: { input: 10_000, output: 10 } },
      { text: 'never sent' },
    );
    const events = await turn(rpc, session.id, 'Write a file.');
    const refused = events.find((event) => event.event.type === 'error')?.event;
    expect(refused).toMatchObject({
      code: 'BUDGET_EXCEEDED',
      message: expect.stringMatching(/^Session budget reached: \$0\.03 of \$0\.02/),
    });
    expect(requestsWith(suite.h, 'Write a file.')).toHaveLength(1);
    await expect(rpc.request('session/prompt', { sessionId: session.id, text: 'again' })).rejects.toMatchObject({
      data: { code: 'BUDGET_EXCEEDED' },
      message: expect.stringContaining('Session budget reached'),
    });
    const [audit] = await suite.h.db.sql`
      select payload from audit_events where action = 'gateway.refused' and target_id = ${session.id} order by id desc limit 1`;
    expect(audit?.payload.sessionCap).toEqual({ limitMicros: 20_000, spentMicros: 30_150 });
  }, 90_000);
});
