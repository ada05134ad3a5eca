import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import { insideReal } from './workspace-path.js';

/**
 * Why writing `target` would land outside `root` on disk, through a symbolic link in the folder
 * or at the target itself, or `undefined` when it stays inside. The deepest part of `target` that
 * exists is resolved: what does not exist yet cannot be a link.
 */
export async function linkEscape(root: string, target: string): Promise<string | undefined> {
  const realRoot = await realpath(root);
  const real = await existingRealPath(target).catch(() => undefined);
  if (real === undefined) return 'it goes through a symbolic link that points nowhere';
  return insideReal(realRoot, real) ? undefined : 'it goes through a symbolic link that points outside the folder';
}

async function existingRealPath(target: string): Promise<string> {
  for (let probe = target; ; probe = path.dirname(probe)) {
    const exists = await lstat(probe).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT' && path.dirname(probe) !== probe) return false;
        throw error;
      },
    );
    // realpath fails on a link whose target is missing: writing there would create a file wherever it points.
    if (exists) return realpath(probe);
  }
}
