import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentName, defineAgent, startSession, toolResults } from '../fixtures/agent-builders.js';
import { useAgentHarness } from '../fixtures/agents.js';
import { turn } from '../fixtures/turns.js';

const suite = useAgentHarness();
const asRoot = process.getuid?.() === 0;

/** A path hidden from any command parser (OpenCode's own path checks see only paths written plainly). */
const hidden = (file: string) => `"$(echo ${Buffer.from(file).toString('base64')} | base64 -d)"`;

/** Runs one shell command as the agent would (bash allowed by the agent's policy) and returns its output. */
async function agentRuns(command: string): Promise<string> {
  const agent = await defineAgent(suite.h, { name: agentName('shell'), systemPrompt: 'x', toolPolicy: [{ tool: '*', action: 'allow' }] });
  const member = await suite.h.createUser('member');
  const rpc = await suite.client(member.token);
  const session = await startSession(rpc, { agent: agent.name });
  suite.h.fake.script({ toolCalls: [{ name: 'bash', arguments: { command, description: 'probe' } }] }, { text: 'done' });
  const [result] = toolResults(await turn(rpc, session.id, 'probe the machine'));
  return `${result?.output ?? ''}${result?.error ?? ''}`;
}

describe('what an agent’s shell command can reach on the shared harness', () => {
  it('runs as the harness’s own user (never root), and cannot read the data dir’s secrets', async () => {
    const dataDir = suite.h.config.dataDir;
    const secrets = ['admin-token', 'master.key', 'pg-password'].filter((file) => existsSync(path.join(dataDir, file)));
    expect(secrets).toContain('admin-token');
    const probes = secrets.map(
      (file) => `cat ${hidden(path.join(dataDir, file))} >/dev/null 2>&1 && echo "read ${file}" || echo "denied ${file}"`,
    );
    const output = await agentRuns(['id -un', ...probes].join('; '));
    const [user, ...lines] = output.trim().split('\n');
    if (asRoot) {
      expect(user).toBe(suite.h.config.harnessUser);
      expect(lines).toEqual(secrets.map((file) => `denied ${file}`));
    } else expect(user).toBe(userInfo().username);
  }, 60_000);

  it('cannot learn the OpenCode server password: not in its environment, not in the server’s /proc', async () => {
    const pid = suite.h.app.harness?.health().pid;
    expect(pid).toBeGreaterThan(0);
    const output = await agentRuns(
      [
        'env | grep -c OPENCODE_SERVER_PASSWORD || true',
        `cat ${hidden(`/proc/${pid}/environ`)} >/dev/null 2>&1 && echo readable || echo unreadable`,
      ].join('; '),
    );
    expect(output.trim().split('\n')).toEqual(['0', 'unreadable']);
  }, 60_000);

  it('cannot plant config or a plugin that OpenCode would load into itself', async () => {
    const config = path.join(suite.h.config.dataDir, 'harness', 'config', 'opencode');
    const home = path.join(suite.h.config.dataDir, 'harness', 'home');
    const attempts = [`${config}/plugin/evil.js`, `${home}/.opencode/plugin.js`, '.opencode/plugin.js', 'opencode.json', 'opencode.jsonc'];
    const output = await agentRuns(
      [
        ...attempts.map(
          (file) => `(echo "export const X = 1" > ${hidden(file)}) 2>/dev/null && echo "wrote ${file}" || echo "refused ${file}"`,
        ),
        'rm -rf .opencode 2>/dev/null && echo "removed .opencode" || echo "kept .opencode"',
        'echo work > mine.txt && rm mine.txt && echo "own files ok"',
      ].join('; '),
    );
    if (!asRoot) return expect(output).toContain('own files ok');
    expect(output.trim().split('\n')).toEqual([...attempts.map((file) => `refused ${file}`), 'kept .opencode', 'own files ok']);
  }, 60_000);
});
