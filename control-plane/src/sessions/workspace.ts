import { spawn } from 'node:child_process';
import { chmod, cp, lstat, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../errors.js';
import { checkOutbound, type OutboundRules } from '../net/outbound.js';

/** How a session's provider is named inside OpenCode (never with an `opencode`/`openai` prefix, which OpenCode treats specially). */
export const HARNESS_PROVIDER = { openai: 'switchboard', anthropic: 'switchboard-anthropic' } as const;

export interface WorkspaceModel {
  name: string;
  format: 'openai' | 'anthropic';
  contextLimit: number;
  outputLimit: number;
}

export function workspaceDir(dataDir: string, sessionId: string): string {
  return path.join(path.resolve(dataDir), 'workspaces', sessionId);
}

export function harnessModel(model: WorkspaceModel): { providerId: string; modelId: string } {
  return { providerId: HARNESS_PROVIDER[model.format], modelId: model.name };
}

/**
 * The session's own OpenCode configuration: its only providers are the control plane's gateway,
 * reached with the session's key, so every model call is metered against the session's user.
 * `agent` adds a defined agent's entries (`agent`, `instructions`, `mcp`).
 */
export async function writeHarnessConfig(
  dir: string,
  input: {
    gatewayUrl: string;
    key: string;
    models: WorkspaceModel[];
    model: WorkspaceModel;
    agent?: { agent: Record<string, unknown>; instructions: string[]; mcp: Record<string, unknown> } | undefined;
  },
) {
  const provider = (format: 'openai' | 'anthropic') => {
    const models = Object.fromEntries(
      input.models
        .filter((model) => model.format === format)
        .map((model) => [
          model.name,
          { name: model.name, tool_call: true, limit: { context: model.contextLimit, output: model.outputLimit } },
        ]),
    );
    return {
      npm: format === 'openai' ? '@ai-sdk/openai-compatible' : '@ai-sdk/anthropic',
      name: 'Switchboard',
      options: { baseURL: `${input.gatewayUrl}/gateway/v1`, apiKey: input.key },
      models,
    };
  };
  const selected = harnessModel(input.model);
  const config = {
    $schema: 'https://opencode.ai/config.json',
    provider: { [HARNESS_PROVIDER.openai]: provider('openai'), [HARNESS_PROVIDER.anthropic]: provider('anthropic') },
    enabled_providers: [HARNESS_PROVIDER.openai, HARNESS_PROVIDER.anthropic],
    model: `${selected.providerId}/${selected.modelId}`,
    small_model: `${selected.providerId}/${selected.modelId}`,
    share: 'disabled',
    autoupdate: false,
    permission: { external_directory: 'deny' },
    ...input.agent,
  };
  const file = path.join(dir, 'opencode.json');
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
}

/** Fails unless every entry under `dir` is a regular file or directory (no symlink, device or socket). */
export async function assertPlainTree(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  const walk = async (current: string): Promise<void> => {
    for (const entry of await readdir(current)) {
      const full = path.join(current, entry);
      const info = await lstat(full);
      if (info.isSymbolicLink())
        throw new AppError(
          'BAD_REQUEST',
          `The workspace source contains a symbolic link (${path.relative(dir, full)}); links are not allowed.`,
        );
      if (info.isDirectory()) await walk(full);
      else if (info.isFile()) {
        files += 1;
        bytes += info.size;
      } else throw new AppError('BAD_REQUEST', `The workspace source contains a special file (${path.relative(dir, full)}).`);
    }
  };
  await walk(dir);
  return { files, bytes };
}

/** Writes uploaded files below `dir`, each checked to land inside it. */
export async function writeUploadedFiles(dir: string, files: { path: string; content: Buffer; executable: boolean }[]): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const file of files) {
    const target = path.resolve(dir, file.path);
    if (!target.startsWith(`${dir}${path.sep}`)) throw new AppError('BAD_REQUEST', `The path ${file.path} leaves the workspace.`);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, file.content, { mode: file.executable ? 0o755 : 0o644, flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST') throw new AppError('BAD_REQUEST', `The path ${file.path} appears twice.`);
      if (error.code === 'ENOTDIR' || error.code === 'EISDIR')
        throw new AppError('BAD_REQUEST', `The path ${file.path} conflicts with another uploaded path.`);
      throw error;
    });
  }
}

/** Copies an upload into a fresh workspace. */
export async function seedFromUpload(dir: string, uploadDir: string): Promise<void> {
  await assertPlainTree(uploadDir);
  await cp(uploadDir, dir, { recursive: true, errorOnExist: true, force: false, verbatimSymlinks: true });
}

/**
 * Clones a repository into a fresh workspace (shallow, no prompts, bounded in time and size).
 * Members may clone over https only, from a host outside this machine and its private networks
 * (checked after DNS, and git is pinned to the address checked, with redirects off); admins may
 * also name a path on the server. The size limit holds while git downloads, not only after.
 */
export async function seedFromGit(
  dir: string,
  source: { url: string; ref?: string | undefined },
  options: { allowLocal: boolean; maxBytes: number; timeoutMs: number; outbound: OutboundRules },
) {
  const isLocal = !/^[a-z][a-z0-9+.-]*:\/\//i.test(source.url);
  if (isLocal && !options.allowLocal)
    throw new AppError('FORBIDDEN', 'Only admins can seed a workspace from a path on the server. Use an https URL.');
  const allowedHost = !isLocal && options.outbound.allowedHosts.has(new URL(source.url).hostname.toLowerCase());
  if (!isLocal && !/^https:\/\//i.test(source.url) && !(allowedHost && /^http:\/\//i.test(source.url)))
    throw new AppError('BAD_REQUEST', 'Git URLs must use https.');
  if (source.ref && !/^[A-Za-z0-9._/-]{1,200}$/.test(source.ref))
    throw new AppError('BAD_REQUEST', 'The git ref has characters a ref cannot have.');
  const pinned: string[] = [];
  if (!isLocal) {
    const url = new URL(source.url);
    const addresses = await checkOutbound(source.url, options.outbound, 'The git URL');
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    const address = addresses[0];
    if (address) pinned.push('-c', `http.curloptResolve=${url.hostname}:${port}:${address.includes(':') ? `[${address}]` : address}`);
  }
  const allowed = isLocal ? 'file' : 'https';
  const args = [
    '-c',
    'protocol.allow=never',
    '-c',
    `protocol.${allowed}.allow=always`,
    ...(allowedHost ? ['-c', 'protocol.http.allow=always'] : []),
    '-c',
    'http.followRedirects=false',
    ...pinned,
    'clone',
    '--depth',
    '1',
    '--no-tags',
  ];
  if (source.ref) args.push('--branch', source.ref);
  args.push('--', isLocal ? path.resolve(source.url) : source.url, dir);
  const fail = async (message: string, code: 'BAD_REQUEST' | 'PAYLOAD_TOO_LARGE' = 'BAD_REQUEST') => {
    await rm(dir, { recursive: true, force: true });
    throw new AppError(code, message);
  };
  const tooLarge = () =>
    `The repository holds more than ${Math.round(options.maxBytes / 1048576)} MiB; the workspace limit is ${Math.round(options.maxBytes / 1048576)} MiB.`;
  const outcome = await cloneWithin(args, dir, options);
  if (outcome.kind === 'too-large') return fail(tooLarge(), 'PAYLOAD_TOO_LARGE');
  if (outcome.kind === 'failed') return fail(`The repository could not be cloned: ${outcome.detail}`);
  const { bytes } = await assertPlainTree(dir).catch(async (error) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  if (bytes > options.maxBytes) return fail(tooLarge(), 'PAYLOAD_TOO_LARGE');
}

/** Runs git, stopping it as soon as what it wrote passes the limit or the time runs out. */
async function cloneWithin(
  args: string[],
  dir: string,
  options: { maxBytes: number; timeoutMs: number },
): Promise<{ kind: 'ok' } | { kind: 'too-large' } | { kind: 'failed'; detail: string }> {
  const child = spawn('git', args, {
    env: { PATH: process.env.PATH, GIT_TERMINAL_PROMPT: '0', HOME: '/nonexistent' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  let over = false;
  let measuring = false;
  const watch = setInterval(() => {
    if (measuring) return;
    measuring = true;
    void treeBytes(dir)
      .then((bytes) => {
        if (bytes > options.maxBytes) {
          over = true;
          child.kill('SIGKILL');
        }
      })
      .finally(() => {
        measuring = false;
      });
  }, 250);
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  const code = await new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(-1));
    child.once('close', (exit) => resolve(exit));
  });
  clearInterval(watch);
  clearTimeout(timer);
  if (over) return { kind: 'too-large' };
  if (code === 0) return { kind: 'ok' };
  const detail = stderr.trim().split('\n').slice(-2).join(' ') || `git stopped (${code === null ? 'out of time' : `exit ${code}`})`;
  return { kind: 'failed', detail };
}

async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  const walk = async (current: string): Promise<void> => {
    const entries = await readdir(current, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else total += (await lstat(full).catch(() => undefined))?.size ?? 0;
    }
  };
  await walk(dir);
  return total;
}

/**
 * A repository's own `.opencode/` folder would make OpenCode install packages at run time and could
 * override the session's provider, so it is removed; the session's `opencode.json` is ours.
 */
export async function stripHarnessConfig(dir: string): Promise<void> {
  await rm(path.join(dir, '.opencode'), { recursive: true, force: true });
  for (const name of ['opencode.json', 'opencode.jsonc']) await rm(path.join(dir, name), { force: true });
}
