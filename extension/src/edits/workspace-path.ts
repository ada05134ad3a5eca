import path from 'node:path';
import { workspacePathProblem } from '@switchboard/protocol';

export type Containment = { ok: true; segments: string[] } | { ok: false; reason: string };

/**
 * Whether a path the control plane sent names a file inside the folder whose URI path (always
 * `/`-separated, `/c:/…` on Windows) is `folderPath`. Lexical only: `insideReal` checks what the
 * disk makes of it (symbolic links). Beyond the protocol's rule it refuses what Windows would turn
 * into something else: a drive prefix, and segments of only dots and spaces (`.. ` becomes `..`).
 */
export function containedPath(folderPath: string, relative: unknown): Containment {
  if (typeof relative !== 'string') return { ok: false, reason: 'it is not a path' };
  const problem = workspacePathProblem(relative);
  if (problem) return { ok: false, reason: describe(problem) };
  if (/^[A-Za-z]:/.test(relative)) return { ok: false, reason: 'it names a drive (an absolute path)' };
  const segments = relative.split('/');
  if (segments.some((segment) => /^[. ]+$/.test(segment))) return { ok: false, reason: 'it has a segment Windows reads as "." or ".."' };
  if ([...relative].some((char) => char.charCodeAt(0) < 0x20)) return { ok: false, reason: 'it holds a control character' };
  const root = path.posix.normalize(`${folderPath}/`);
  const joined = path.posix.join(root, ...segments);
  if (!joined.startsWith(root) || joined === root) return { ok: false, reason: 'it resolves outside the folder' };
  return { ok: true, segments };
}

function describe(problem: string): string {
  if (problem.startsWith('Must be a relative')) return 'it is absolute or uses backslashes';
  if (problem.startsWith('Must not contain')) return 'it has an empty, "." or ".." segment';
  return 'it is empty or too long';
}

/** Whether `candidate` (a real path, links resolved) is `root` or lies under it, with this platform's rules. */
export function insideReal(root: string, candidate: string, paths: path.PlatformPath = path): boolean {
  const relative = paths.relative(root, candidate);
  if (relative === '') return true;
  return relative !== '..' && !relative.startsWith(`..${paths.sep}`) && !paths.isAbsolute(relative);
}

/** A path from the control plane that Switchboard will not touch, with why, for the person to read. */
export class RefusedPathError extends Error {
  override name = 'RefusedPathError';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`Switchboard refused the path ${shown(path)} from the control plane: ${reason}. It only touches files inside the folder.`);
  }
}

/** JSON quoting shows hidden characters; a server could send a path of any length. */
function shown(value: string): string {
  const quoted = JSON.stringify(value);
  return quoted.length > 200 ? `${quoted.slice(0, 199)}…"` : quoted;
}

export function refusedPaths(errors: readonly RefusedPathError[]): string {
  const names = errors.slice(0, 5).map((error) => shown(error.path));
  const more = errors.length > 5 ? ` and ${errors.length - 5} more` : '';
  return `${names.join(', ')}${more}`;
}
