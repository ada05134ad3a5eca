import { AgentSpec } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import { materializeAgent, secretNames } from '../../../control-plane/src/agents/materialize.js';

const base = {
  name: 'reviewer',
  model: 'switchboard/sb-coder',
  policy: [],
  privateDir: '/data/session-private/s1',
  controlPlaneUrl: 'http://127.0.0.1:7420',
  sessionKey: 'sbk_key',
};

describe('an agent as OpenCode configuration', () => {
  it('makes the prompt the agent prompt (through a private file) and removes the tools its policy always denies', () => {
    const out = materializeAgent({
      ...base,
      spec: AgentSpec.parse({ systemPrompt: 'You review code.' }),
      policy: [
        { tool: '*', pattern: '*', action: 'allow' },
        { tool: 'bash', pattern: '*', action: 'deny' },
        { tool: 'webfetch', pattern: 'http://*', action: 'deny' },
      ],
    });
    expect(out.config.agent).toEqual({
      reviewer: {
        mode: 'primary',
        prompt: '{file:/data/session-private/s1/v1}',
        model: 'switchboard/sb-coder',
        permission: { bash: 'deny' },
      },
    });
    expect(out.privateFiles).toEqual([{ name: 'v1', content: { text: 'You review code.' } }]);
    expect(out.config.instructions).toEqual([]);
    expect(out.config.mcp).toEqual({});
    expect(out.workspaceFiles).toEqual([]);
  });

  it('writes each skill under .switchboard/skills and lists its SKILL.md as instructions', () => {
    const spec = AgentSpec.parse({
      systemPrompt: 'x',
      skills: [
        { name: 'style', description: 'House style', instructions: 'Use tabs.', files: [{ path: 'examples/a.ts', content: 'a' }] },
        { name: 'release', instructions: 'Tag, then push.' },
      ],
    });
    const out = materializeAgent({ ...base, spec });
    expect(out.config.instructions).toEqual(['.switchboard/skills/style/SKILL.md', '.switchboard/skills/release/SKILL.md']);
    expect(out.workspaceFiles.map((file) => file.path)).toEqual([
      '.switchboard/skills/style/SKILL.md',
      '.switchboard/skills/style/examples/a.ts',
      '.switchboard/skills/release/SKILL.md',
    ]);
    expect(out.workspaceFiles[0]?.content).toBe(
      '# Skill: style\n\nHouse style\n\nUse tabs.\n\nFiles of this skill (in .switchboard/skills/style/): examples/a.ts\n',
    );
  });

  it('keeps secrets out of the config: local values through private files, remote servers through the proxy', () => {
    const spec = AgentSpec.parse({
      systemPrompt: 'x',
      mcpServers: {
        github: {
          type: 'local',
          command: ['node', 'server.js', '--flag={env:HOME}'],
          environment: { TOKEN: { secret: 'GH' }, AUTH: { secret: 'GH', prefix: 'token ' }, LEVEL: 'debug' },
          timeoutMs: 5000,
        },
        tracker: { type: 'remote', url: 'https://mcp.example.com/mcp', headers: { authorization: { secret: 'TRACKER' } } },
      },
      memory: true,
    });
    const out = materializeAgent({ ...base, spec });
    expect(out.config.mcp.github).toEqual({
      type: 'local',
      command: ['node', 'server.js', '{file:/data/session-private/s1/v1}'],
      environment: { TOKEN: '{file:/data/session-private/s1/v2}', AUTH: '{file:/data/session-private/s1/v3}', LEVEL: 'debug' },
      enabled: true,
      timeout: 5000,
    });
    expect(out.privateFiles.slice(0, 3)).toEqual([
      { name: 'v1', content: { text: '--flag={env:HOME}' } },
      { name: 'v2', content: { secret: 'GH', prefix: '' } },
      { name: 'v3', content: { secret: 'GH', prefix: 'token ' } },
    ]);
    expect(out.config.mcp.tracker).toEqual({
      type: 'remote',
      url: 'http://127.0.0.1:7420/mcp/agents/tracker',
      headers: { authorization: 'Bearer sbk_key' },
      oauth: false,
      enabled: true,
    });
    expect(out.config.mcp.memory).toMatchObject({ type: 'remote', url: 'http://127.0.0.1:7420/mcp/memory', oauth: false });
    expect(out.config.instructions).toEqual(['.switchboard/memory.md']);
    expect(JSON.stringify(out.config)).not.toContain('mcp.example.com');
    expect(secretNames(spec)).toEqual([
      { name: 'GH', path: 'mcpServers.github.environment.TOKEN' },
      { name: 'GH', path: 'mcpServers.github.environment.AUTH' },
      { name: 'TRACKER', path: 'mcpServers.tracker.headers.authorization' },
    ]);
  });
});
