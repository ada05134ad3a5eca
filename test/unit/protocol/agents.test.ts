import {
  Agent,
  AgentSpec,
  CreateAgentBody,
  McpServer,
  MemoryParams,
  PutMemoryBody,
  PutSecretBody,
  rpcRequests,
  Secret,
  Session,
  UpdateAgentBody,
} from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';

const uuid = '3f1c2a4e-8b7d-4c1a-9e2f-0a1b2c3d4e5f';
const at = '2026-11-24T10:00:00.000Z';
const paths = (result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) =>
  result.error?.issues.map((issue) => issue.path.join('.'));

describe('agent definitions', () => {
  it('fills defaults for a minimal agent', () => {
    expect(CreateAgentBody.parse({ name: 'reviewer', systemPrompt: 'Review.' })).toEqual({
      name: 'reviewer',
      teamId: null,
      description: '',
      model: null,
      systemPrompt: 'Review.',
      toolPolicy: null,
      skills: [],
      mcpServers: {},
      memory: false,
      maxBudgetPerSessionMicros: null,
    });
  });

  it('accepts a full agent with skills, both kinds of MCP server and secret references', () => {
    const body = {
      name: 'release-bot',
      teamId: uuid,
      model: 'claude-sonnet-4-5',
      systemPrompt: 'You cut releases.',
      toolPolicy: [{ tool: 'bash', pattern: 'git push*', action: 'ask' }],
      skills: [{ name: 'changelog', instructions: 'Write the changelog.', files: [{ path: 'template.md', content: '# Changes' }] }],
      mcpServers: {
        github: { type: 'local', command: ['npx', 'github-mcp'], environment: { GITHUB_TOKEN: { secret: 'GITHUB_TOKEN' } } },
        jira: { type: 'remote', url: 'https://jira.example.com/mcp', headers: { Authorization: { secret: 'JIRA', prefix: 'Bearer ' } } },
      },
      memory: true,
      maxBudgetPerSessionMicros: 5_000_000,
    };
    expect(CreateAgentBody.parse(body)).toMatchObject({ ...body, toolPolicy: [{ tool: 'bash', pattern: 'git push*', action: 'ask' }] });
  });

  it('rejects bad names, unknown fields, the reserved memory server and clashing skill files, naming the field', () => {
    expect(paths(CreateAgentBody.safeParse({ name: 'Has Space', systemPrompt: 'x' }))).toEqual(['name']);
    expect(CreateAgentBody.safeParse({ name: 'a', systemPrompt: 'x', extra: 1 }).success).toBe(false);
    expect(paths(CreateAgentBody.safeParse({ name: 'a', systemPrompt: '' }))).toEqual(['systemPrompt']);
    expect(paths(CreateAgentBody.safeParse({ name: 'a', systemPrompt: 'x', maxBudgetPerSessionMicros: -1 }))).toEqual([
      'maxBudgetPerSessionMicros',
    ]);
    expect(
      CreateAgentBody.safeParse({ name: 'a', systemPrompt: 'x', mcpServers: { memory: { type: 'local', command: ['x'] } } }).success,
    ).toBe(false);
    const skill = { name: 's', instructions: 'x', files: [{ path: 'SKILL.md', content: '' }] };
    expect(paths(CreateAgentBody.safeParse({ name: 'a', systemPrompt: 'x', skills: [skill] }))).toEqual(['skills.0.files']);
    const twice = { name: 's', instructions: 'x' };
    expect(paths(CreateAgentBody.safeParse({ name: 'a', systemPrompt: 'x', skills: [twice, twice] }))).toEqual(['skills']);
    const escaping = { name: 's', instructions: 'x', files: [{ path: '../evil', content: '' }] };
    expect(CreateAgentBody.safeParse({ name: 'a', systemPrompt: 'x', skills: [escaping] }).success).toBe(false);
  });

  it('validates MCP servers by kind', () => {
    expect(McpServer.safeParse({ type: 'local', command: [] }).success).toBe(false);
    expect(McpServer.safeParse({ type: 'remote', url: 'ftp://x' }).success).toBe(false);
    expect(McpServer.safeParse({ type: 'remote', url: 'https://x.example/mcp', command: ['x'] }).success).toBe(false);
    expect(McpServer.safeParse({ type: 'local', command: ['x'], environment: { 'BAD-NAME': 'v' } }).success).toBe(false);
    expect(McpServer.safeParse({ type: 'local', command: ['x'], environment: { OK: { secret: 'S', extra: 1 } } }).success).toBe(false);
    expect(McpServer.parse({ type: 'remote', url: 'https://x.example/mcp' })).toEqual({
      type: 'remote',
      url: 'https://x.example/mcp',
      headers: {},
    });
  });

  it('needs at least one change in an update', () => {
    expect(UpdateAgentBody.safeParse({}).success).toBe(false);
    expect(UpdateAgentBody.parse({ memory: true })).toEqual({ memory: true });
    expect(UpdateAgentBody.safeParse({ version: 3 }).success).toBe(false);
  });

  it('round-trips an agent as the API shows it', () => {
    const agent = {
      id: uuid,
      name: 'reviewer',
      teamId: null,
      version: 2,
      currentVersion: 2,
      ...AgentSpec.parse({ systemPrompt: 'x' }),
      createdAt: at,
      updatedAt: at,
      archivedAt: null,
    };
    expect(Agent.parse(agent)).toEqual(agent);
  });
});

describe('secrets and memory bodies', () => {
  it('takes a named secret value and never returns one', () => {
    expect(PutSecretBody.parse({ name: 'GITHUB_TOKEN', value: 'ghp_12345678' })).toEqual({ name: 'GITHUB_TOKEN', value: 'ghp_12345678' });
    expect(paths(PutSecretBody.safeParse({ name: '1BAD', value: 'long enough' }))).toEqual(['name']);
    expect(paths(PutSecretBody.safeParse({ name: 'OK', value: 'short' }))).toEqual(['value']);
    expect(Object.keys(Secret.shape)).not.toContain('value');
  });

  it('validates memory keys and content', () => {
    expect(MemoryParams.safeParse({ id: uuid, key: 'build.commands' }).success).toBe(true);
    expect(MemoryParams.safeParse({ id: uuid, key: '../x' }).success).toBe(false);
    expect(MemoryParams.safeParse({ id: uuid, key: 'a/b' }).success).toBe(false);
    expect(PutMemoryBody.safeParse({ content: 'x', extra: 1 }).success).toBe(false);
  });
});

describe('RPC methods for agents and memory', () => {
  it('parses their params', () => {
    expect(rpcRequests['agent/list'].params.parse({})).toEqual({});
    expect(rpcRequests['memory/list'].params.safeParse({ agentId: 'nope' }).success).toBe(false);
    expect(rpcRequests['memory/put'].params.parse({ agentId: uuid, key: 'k', content: 'v' })).toEqual({
      agentId: uuid,
      key: 'k',
      content: 'v',
    });
    expect(rpcRequests['memory/delete'].params.safeParse({ agentId: uuid }).success).toBe(false);
  });

  it('records the agent and version on a session', () => {
    const session = {
      id: uuid,
      userId: uuid,
      teamId: null,
      title: 't',
      agent: 'reviewer',
      agentId: uuid,
      agentVersion: 3,
      model: 'm',
      status: 'idle',
      lastSeq: 0,
      createdAt: at,
      updatedAt: at,
    };
    expect(Session.parse(session)).toEqual(session);
    expect(Session.safeParse({ ...session, agentVersion: undefined }).success).toBe(false);
  });
});
