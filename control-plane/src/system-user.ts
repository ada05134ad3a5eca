import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** An unprivileged system account a child process runs as when the control plane runs as root. */
export interface RunAs {
  name: string;
  uid: number;
  gid: number;
}

/**
 * The system account `name`, created (no home, no login shell) when missing. Only root can switch
 * a child to another user, so this is undefined when the control plane is not root.
 */
export async function resolveSystemUser(name: string, purpose: string): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const existing = await lookupUser(name);
  if (existing) return existing;
  try {
    await run('useradd', ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', name]);
  } catch (error) {
    // Another process may have created it at the same moment.
    const raced = await lookupUser(name);
    if (raced) return raced;
    throw new Error(`${purpose} and the system user "${name}" could not be created. Create it (useradd --system ${name}).`, {
      cause: error,
    });
  }
  const created = await lookupUser(name);
  if (!created) throw new Error(`System user "${name}" was created but cannot be found.`);
  return created;
}

async function lookupUser(name: string): Promise<RunAs | undefined> {
  try {
    const { stdout } = await run('getent', ['passwd', name]);
    const [, , uid, gid] = stdout.trim().split(':');
    return { name, uid: Number(uid), gid: Number(gid) };
  } catch {
    return undefined;
  }
}

/** Whether `who` can enter every folder on the way to `dir` (the search bit for its owner, group or others). */
export async function traversable(dir: string, who: Pick<RunAs, 'uid' | 'gid'>): Promise<boolean> {
  let current = path.resolve(dir);
  for (;;) {
    const info = await stat(current).catch(() => undefined);
    if (info) {
      const bit = info.uid === who.uid ? 0o100 : info.gid === who.gid ? 0o010 : 0o001;
      if ((info.mode & bit) === 0) return false;
    }
    const parent = path.dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}
