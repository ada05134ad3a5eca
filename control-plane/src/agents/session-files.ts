import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ApprovalPolicy } from '@switchboard/protocol';
import { AppError } from '../errors.js';
import type { SessionAgent } from './agent-service.js';
import { type Materialized, materializeAgent } from './materialize.js';

/**
 * A session's private directory, outside its workspace: the agent's prompt and the values of its
 * MCP servers' secrets, referenced from `opencode.json` with `{file:…}`. OpenCode's file tools
 * cannot reach it (they stay in the workspace); a shell command run as the same OS user could.
 */
export function sessionPrivateDir(dataDir: string, sessionId: string): string {
  return path.join(path.resolve(dataDir), 'session-private', sessionId);
}

/** Writes a materialized agent: skills into the workspace, prompt and secret values into the private directory. */
export async function writeAgentFiles(
  dir: string,
  privateDir: string,
  materialized: Materialized,
  secretValues: Map<string, string>,
): Promise<void> {
  await rm(path.join(dir, '.switchboard'), { recursive: true, force: true });
  for (const file of materialized.workspaceFiles) {
    const target = path.resolve(dir, file.path);
    if (!target.startsWith(`${dir}${path.sep}`)) throw new AppError('BAD_REQUEST', `The skill file ${file.path} leaves the workspace.`);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, file.content, { mode: 0o644 });
  }
  await privateDirFor(privateDir);
  for (const file of materialized.privateFiles) {
    const { content } = file;
    const secret = 'secret' in content ? secretValues.get(content.secret) : undefined;
    if ('secret' in content && secret === undefined) throw new AppError('CONFLICT', `The secret ${content.secret} is missing.`);
    const text = 'text' in content ? content.text : `${content.prefix}${secret}`;
    const target = path.join(privateDir, file.name);
    await writeFile(target, text, { mode: 0o600 });
    await chmod(target, 0o600);
  }
}

/**
 * Keeps the session key out of the workspace (where `session/file`, uploads back and the agent's
 * own file tools could show it): it lives in the private directory, and `opencode.json` refers to
 * it with `{file:…}`, which OpenCode reads when it loads the config. Returns that reference.
 */
export async function writeSessionKey(dataDir: string, sessionId: string, key: string): Promise<string> {
  const privateDir = sessionPrivateDir(dataDir, sessionId);
  await privateDirFor(privateDir);
  const file = path.join(privateDir, 'session-key');
  await writeFile(file, key, { mode: 0o600 });
  await chmod(file, 0o600);
  return `{file:${file}}`;
}

/** The parent is only traversable (0711: the runtime's user may enter a folder it knows, not list them); the folder itself is private. */
async function privateDirFor(privateDir: string): Promise<void> {
  await mkdir(path.dirname(privateDir), { recursive: true, mode: 0o711 });
  await chmod(path.dirname(privateDir), 0o711);
  await mkdir(privateDir, { recursive: true, mode: 0o700 });
  await chmod(privateDir, 0o700);
}

export async function removeSessionPrivate(dataDir: string, sessionId: string): Promise<void> {
  await rm(sessionPrivateDir(dataDir, sessionId), { recursive: true, force: true });
}

/**
 * Writes a defined agent into a new session (skills, prompt, secret values) and returns the entries
 * for its `opencode.json`; nothing for OpenCode's built-in agents.
 */
export async function writeSessionAgent(input: {
  dataDir: string;
  dir: string;
  sessionId: string;
  agent: SessionAgent;
  secretValues: Map<string, string>;
  model: string;
  policy: ApprovalPolicy;
  controlPlaneUrl: string;
  sessionKey: string;
}): Promise<Materialized['config'] | undefined> {
  if (!input.agent.defined) return undefined;
  const privateDir = sessionPrivateDir(input.dataDir, input.sessionId);
  const materialized = materializeAgent({
    name: input.agent.name,
    spec: input.agent.defined.spec,
    model: input.model,
    policy: input.policy,
    privateDir,
    controlPlaneUrl: input.controlPlaneUrl,
    sessionKey: input.sessionKey,
  });
  await writeAgentFiles(input.dir, privateDir, materialized, input.secretValues);
  return materialized.config;
}
