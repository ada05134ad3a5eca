import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, copyFile, lchown, lstat, mkdir, readdir, readFile, readlink, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type RunAs, traversable } from '../system-user.js';

/**
 * What the OpenCode process may touch when it runs as its own unprivileged user (the control plane
 * runs as root): its own state folders, and each session's workspace and private folder, handed
 * over when the session starts. Everything else of the data dir (keys, tokens, the database) stays
 * root's. The folders OpenCode reads its configuration and plugins from are root's too, so no
 * command an agent runs can plant code that OpenCode would load into itself.
 */

/** Where the runtime's folders live: in the data dir, unless the harness user cannot enter it (a checkout under a 0700 home). */
export async function runtimeRoot(dataDir: string, runAs: RunAs | undefined): Promise<string> {
  const preferred = path.resolve(dataDir);
  if (!runAs || (await traversable(preferred, runAs))) return preferred;
  const digest = createHash('sha256').update(preferred).digest('hex').slice(0, 16);
  const root = path.join('/var/lib/switchboard/runtime', digest);
  await mkdir(root, { recursive: true, mode: 0o711 });
  await chmod(root, 0o711);
  return root;
}

/**
 * The binary the harness user starts: the installed one when that user can reach it, else a copy
 * in /var/lib/switchboard (made once per version), so a checkout under a 0700 home still works.
 */
export async function reachableBinary(binary: string, version: string, runAs: RunAs | undefined): Promise<string> {
  if (!runAs || (await traversable(path.dirname(binary), runAs))) return binary;
  const dir = path.join('/var/lib/switchboard/opencode', version);
  const copy = path.join(dir, 'opencode');
  const source = await stat(binary);
  const existing = await stat(copy).catch(() => undefined);
  if (existing?.size === source.size) return copy;
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const partial = `${copy}.${process.pid}.partial`;
  await copyFile(binary, partial);
  await chmod(partial, 0o755);
  await rename(partial, copy);
  return copy;
}

/** The plugin OpenCode loads from its global config: it makes the process non-dumpable and drops the server password from what children inherit. */
export const GUARD_PLUGIN = `// Written by Switchboard; OpenCode loads it from its global config folder.
// 1. PR_SET_DUMPABLE 0: /proc/<pid>/environ and /proc/<pid>/mem of this process are closed to its own user's other processes.
// 2. The server password leaves process.env (the server read it at start), so no tool, MCP server or LSP inherits it.
export const SwitchboardGuard = async () => {
  try {
    const { dlopen, FFIType } = await import('bun:ffi');
    const u64 = FFIType.u64;
    const libc = dlopen('libc.so.6', { prctl: { args: [FFIType.i32, u64, u64, u64, u64], returns: FFIType.i32 } });
    libc.symbols.prctl(4, 0, 0, 0, 0);
    libc.close();
  } catch (error) {
    console.error('switchboard-guard: could not make the process non-dumpable', error);
  }
  delete process.env.OPENCODE_SERVER_PASSWORD;
  return {};
};
`;

export interface HarnessDirs {
  home: string;
  data: string;
  config: string;
  cache: string;
  state: string;
}

/** Creates the harness's folders with their owners: state for the harness user, config and HOME's config spots for root. */
export async function prepareHarnessDirs(d: HarnessDirs, runAs: RunAs | undefined): Promise<void> {
  // Their common parent: root's, enterable, not listable.
  await ownedDir(path.dirname(d.home), runAs && ROOT, runAs ? 0o711 : 0o700);
  for (const dir of [d.data, d.cache, d.state]) {
    // A data dir from a version that ran the harness as root: its files become the harness user's.
    const before = await stat(dir).catch(() => undefined);
    await ownedDir(dir, runAs, 0o700);
    if (runAs && before && before.uid !== runAs.uid) await chownTree(dir, runAs);
  }
  const opencodeConfig = path.join(d.config, 'opencode');
  for (const dir of [d.config, opencodeConfig, path.join(opencodeConfig, 'plugin')])
    await ownedDir(dir, runAs && ROOT, runAs ? 0o755 : 0o700);
  await writeFile(path.join(opencodeConfig, 'plugin', 'switchboard-guard.js'), GUARD_PLUGIN, { mode: 0o644 });
  if (!runAs) {
    await ownedDir(d.home, undefined, 0o700);
    return;
  }
  // HOME: the harness user may create and remove its own files (sticky, group-writable), never
  // root's: the empty `.opencode` OpenCode would read plugins from, and a git config that trusts
  // the workspaces (their top folder is root's, see adoptWorkspace).
  await ownedDir(d.home, { uid: 0, gid: runAs.gid }, 0o1770);
  await ownedDir(path.join(d.home, '.opencode'), ROOT, 0o555);
  await writeFile(path.join(d.home, '.gitconfig'), '[safe]\n\tdirectory = *\n', { mode: 0o644 });
  await chown(path.join(d.home, '.gitconfig'), 0, 0);
}

/**
 * Hands a new session's folders to the harness user: the workspace's content becomes its own; the
 * workspace folder itself, its `opencode.json`, and empty `.opencode/` and `opencode.jsonc` stay
 * root's (sticky, group-writable), so no command can replace the session's config or add a plugin;
 * the private folder (key, secrets) becomes readable by the harness group, not writable.
 */
export async function adoptWorkspace(input: { workspace: string; privateDir: string }, runAs: RunAs | undefined): Promise<void> {
  if (!runAs) return;
  const { workspace } = input;
  const top = await stat(workspace).catch(() => undefined);
  // A workspace that is gone has nothing to hand over; the harness reports the missing folder itself.
  if (!top) return;
  // Already handed over (the root-owned, sticky, group-writable top folder is the mark).
  if (top.uid === 0 && top.gid === runAs.gid && (top.mode & 0o7777) === 0o1770) return;
  const guarded = new Set(['opencode.json', 'opencode.jsonc', '.opencode']);
  await mkdir(path.join(workspace, '.opencode'), { recursive: true });
  if (!existsSync(path.join(workspace, 'opencode.jsonc'))) await writeFile(path.join(workspace, 'opencode.jsonc'), '{}\n');
  for (const entry of await readdir(workspace)) {
    if (!guarded.has(entry)) await chownTree(path.join(workspace, entry), runAs);
  }
  await setOwner(workspace, 0, runAs.gid, 0o1770);
  await setOwner(path.join(workspace, 'opencode.json'), 0, runAs.gid, 0o640);
  await setOwner(path.join(workspace, 'opencode.jsonc'), 0, 0, 0o444);
  await setOwner(path.join(workspace, '.opencode'), 0, 0, 0o555);
  if (existsSync(input.privateDir)) {
    await setOwner(input.privateDir, 0, runAs.gid, 0o750);
    for (const file of await readdir(input.privateDir)) await setOwner(path.join(input.privateDir, file), 0, runAs.gid, 0o640);
  }
}

const ROOT = { uid: 0, gid: 0 };

async function ownedDir(dir: string, owner: Pick<RunAs, 'uid' | 'gid'> | undefined, mode: number): Promise<void> {
  await mkdir(dir, { recursive: true, mode: mode & 0o777 });
  if (owner) await chown(dir, owner.uid, owner.gid);
  await chmod(dir, mode);
}

async function setOwner(file: string, uid: number, gid: number, mode: number): Promise<void> {
  if (!existsSync(file)) return;
  await chown(file, uid, gid);
  await chmod(file, mode);
}

async function chownTree(target: string, runAs: RunAs): Promise<void> {
  const info = await lstat(target);
  await lchown(target, runAs.uid, runAs.gid);
  if (!info.isDirectory()) return;
  for (const entry of await readdir(target)) await chownTree(path.join(target, entry), runAs);
}

/**
 * An OpenCode left running by a control plane that was killed (kill -9 runs no exit handler) would
 * hold its memory forever next to the new one: the pid file names it, and it is stopped first.
 */
export async function stopOrphanHarness(pidFile: string, home: string, log: { warn(obj: object, msg: string): void }): Promise<void> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 1) return;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes('opencode') || !cmdline.includes('serve')) return;
  // A reused pid running another data dir's OpenCode is not ours (its folder tells, where we may read it).
  const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined);
  if (cwd !== undefined && cwd !== home) return;
  log.warn({ orphanPid: pid }, 'stopping an agent runtime left behind by a control plane that was killed');
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  for (let waited = 0; waited < 5000 && existsSync(`/proc/${pid}`); waited += 50) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (/\) [ZX] /.test(stat)) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
