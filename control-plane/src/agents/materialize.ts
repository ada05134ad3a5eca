import path from 'node:path';
import type { AgentSpec, ApprovalPolicy, SecretValue } from '@switchboard/protocol';
import { harnessRules } from '../sessions/policy.js';

/** Where an agent's skills live in a session workspace: not `.opencode/` (stripped, and OpenCode installs packages there). */
export const SKILLS_DIR = '.switchboard/skills';
export const MEMORY_SERVER = 'memory';

export interface MaterializeInput {
  /** The agent's name: the key of its entry in `agent`, and what prompts select. */
  name: string;
  spec: AgentSpec;
  /** The session's model as OpenCode names it (`provider/model`). */
  model: string;
  /** The session's effective approval policy: its always-denied tools are removed from the agent. */
  policy: ApprovalPolicy;
  /** A directory outside the workspace (file tools cannot reach it) for the prompt and secret values. */
  privateDir: string;
  /** How the harness reaches this control plane. */
  controlPlaneUrl: string;
  sessionKey: string;
}

/** A file outside the workspace: literal text, or the value of a vault secret (resolved by the caller). */
export interface PrivateFile {
  name: string;
  content: { text: string } | { secret: string; prefix: string };
}

export interface Materialized {
  /** Merged into the session's `opencode.json`. */
  config: { agent: Record<string, unknown>; instructions: string[]; mcp: Record<string, unknown> };
  /** Files written into the workspace, paths relative to it. */
  workspaceFiles: { path: string; content: string }[];
  privateFiles: PrivateFile[];
}

/**
 * OpenCode substitutes `{env:…}` and `{file:…}` anywhere in `opencode.json` (a prompt quoting that
 * syntax would read the harness's environment or any file), but not inside a substituted file. So
 * text that could hold such a token goes through a private file, referenced with `{file:…}`.
 */
const TOKEN = /\{(env|file):/;

/**
 * Turns an agent version into native OpenCode configuration for one session: a primary agent whose
 * prompt IS the system prompt, its skills as `instructions` files, its MCP servers (remote ones
 * through the control plane's proxy, so their secret headers never reach the workspace), and the
 * control plane's memory server. Pure: secrets are named, never resolved, here.
 */
export function materializeAgent(input: MaterializeInput): Materialized {
  const privateFiles: PrivateFile[] = [];
  const workspaceFiles: { path: string; content: string }[] = [];
  const privateRef = (content: PrivateFile['content']): string => {
    const name = `v${privateFiles.length + 1}`;
    privateFiles.push({ name, content });
    return `{file:${path.join(input.privateDir, name)}}`;
  };
  const literal = (text: string): string => (TOKEN.test(text) ? privateRef({ text }) : text);
  const value = (given: SecretValue): string =>
    typeof given === 'string' ? literal(given) : privateRef({ secret: given.secret, prefix: given.prefix ?? '' });
  const auth = { authorization: `Bearer ${input.sessionKey}` };

  const instructions: string[] = [];
  for (const skill of input.spec.skills) {
    const dir = `${SKILLS_DIR}/${skill.name}`;
    workspaceFiles.push({ path: `${dir}/SKILL.md`, content: skillMarkdown(skill, dir) });
    for (const file of skill.files) workspaceFiles.push({ path: `${dir}/${file.path}`, content: file.content });
    instructions.push(`${dir}/SKILL.md`);
  }

  const mcp: Record<string, unknown> = {};
  for (const [server, spec] of Object.entries(input.spec.mcpServers)) {
    const timeout = spec.timeoutMs === undefined ? {} : { timeout: spec.timeoutMs };
    if (spec.type === 'local') {
      mcp[server] = {
        type: 'local',
        command: spec.command.map(literal),
        environment: Object.fromEntries(Object.entries(spec.environment).map(([name, given]) => [name, value(given)])),
        enabled: true,
        ...timeout,
      };
    } else {
      mcp[server] = {
        type: 'remote',
        url: `${input.controlPlaneUrl}/mcp/agents/${server}`,
        headers: auth,
        oauth: false,
        enabled: true,
        ...timeout,
      };
    }
  }
  if (input.spec.memory) {
    mcp[MEMORY_SERVER] = { type: 'remote', url: `${input.controlPlaneUrl}/mcp/memory`, headers: auth, oauth: false, enabled: true };
    workspaceFiles.push({ path: '.switchboard/memory.md', content: MEMORY_NOTE });
    instructions.push('.switchboard/memory.md');
  }

  const denied = Object.fromEntries(
    harnessRules(input.policy)
      .filter((rule) => rule.action === 'deny')
      .map((rule) => [rule.permission, 'deny']),
  );
  const agent = {
    [input.name]: {
      mode: 'primary',
      prompt: privateRef({ text: input.spec.systemPrompt }),
      model: input.model,
      ...(Object.keys(denied).length > 0 ? { permission: denied } : {}),
    },
  };
  return { config: { agent, instructions, mcp }, workspaceFiles, privateFiles };
}

function skillMarkdown(skill: AgentSpec['skills'][number], dir: string): string {
  const header = `# Skill: ${skill.name}\n${skill.description ? `\n${skill.description}\n` : ''}`;
  const files =
    skill.files.length > 0 ? `\n\nFiles of this skill (in ${dir}/): ${skill.files.map((file) => file.path).join(', ')}\n` : '\n';
  return `${header}\n${skill.instructions.trim()}${files}`;
}

const MEMORY_NOTE = `# Memory

You have a durable memory that lasts across sessions, kept for you and the person you work with:
memory_list shows the notes, memory_read reads one, memory_write saves one (by key), memory_delete
removes one. Look at your notes when a task starts; write down facts that will matter next time
(preferences, decisions, where things are), not the conversation itself.
`;

/** Every secret a version's MCP servers name (to check they exist, and to resolve them for a session). */
export function secretNames(spec: Pick<AgentSpec, 'mcpServers'>): { name: string; path: string }[] {
  const found: { name: string; path: string }[] = [];
  for (const [server, config] of Object.entries(spec.mcpServers)) {
    const field = config.type === 'local' ? 'environment' : 'headers';
    const values = config.type === 'local' ? config.environment : config.headers;
    for (const [key, given] of Object.entries(values)) {
      if (typeof given !== 'string') found.push({ name: given.secret, path: `mcpServers.${server}.${field}.${key}` });
    }
  }
  return found;
}
