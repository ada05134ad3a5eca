import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type ChangedFile, MAX_SESSION_FILE_BYTES } from '@switchboard/protocol';
import { AppError } from '../errors.js';

/**
 * What the agent changed in a session's workspace: the workspace is fingerprinted (path → SHA-256)
 * when the session starts, and compared with what is on disk when a client asks. This catches
 * every change, including files written by bash or by a build, which no tool event reports.
 */

/** Folders that are never compared: version-control data, dependencies, OpenCode's config, and agent skills we write. */
const SKIPPED_DIRS = new Set(['.git', 'node_modules', '.opencode', '.switchboard']);
/** The session's `opencode.json` is written by the control plane (it holds the session key). */
const SKIPPED_ROOT_FILES = new Set(['opencode.json', 'opencode.jsonc']);
/** A fingerprint stops here; more files than this in one workspace is a build tree, not a change set. */
const MAX_FILES = 50_000;
const MAX_LISTED_CHANGES = 2_000;

export interface FileFingerprint {
  sha256: string;
  bytes: number;
  /** Lets a later fingerprint reuse the hash of a file whose size and modification time are unchanged. */
  mtimeMs?: number;
}
export type Manifest = Map<string, FileFingerprint>;

async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Fingerprints every regular file under `dir` (symbolic links and skipped folders are left out).
 * Files that `known` lists with the same size and modification time keep their known hash, so
 * comparing a large, mostly untouched workspace reads only what changed.
 */
export async function fingerprint(dir: string, known?: Manifest): Promise<Manifest> {
  const manifest: Manifest = new Map();
  const walk = async (relative: string): Promise<void> => {
    const entries = await readdir(path.join(dir, relative), { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) await walk(child);
      } else if (entry.isFile() && !(relative === '' && SKIPPED_ROOT_FILES.has(entry.name))) {
        if (manifest.size >= MAX_FILES)
          throw new AppError('PAYLOAD_TOO_LARGE', `The workspace holds more than ${MAX_FILES} files; changes cannot be listed.`);
        const full = path.join(dir, child);
        const info = await lstat(full);
        const before = known?.get(child);
        const unchanged = before?.mtimeMs === info.mtimeMs && before.bytes === info.size;
        const sha256 = unchanged && before ? before.sha256 : await hashFile(full);
        manifest.set(child, { sha256, bytes: info.size, mtimeMs: info.mtimeMs });
      }
    }
  };
  await walk('');
  return manifest;
}

/** The files that differ between the start and now, sorted by path. */
export function compareManifests(base: Manifest, current: Manifest): ChangedFile[] {
  const changes: ChangedFile[] = [];
  for (const [file, now] of current) {
    const before = base.get(file);
    if (!before) changes.push({ path: file, status: 'added', baseSha256: null, sha256: now.sha256, bytes: now.bytes });
    else if (before.sha256 !== now.sha256)
      changes.push({ path: file, status: 'modified', baseSha256: before.sha256, sha256: now.sha256, bytes: now.bytes });
  }
  for (const [file, before] of base) {
    if (!current.has(file)) changes.push({ path: file, status: 'deleted', baseSha256: before.sha256, sha256: null, bytes: 0 });
  }
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export function baselineFile(dataDir: string, sessionId: string): string {
  return path.join(path.resolve(dataDir), 'baselines', `${sessionId}.json`);
}

/** Stores the starting fingerprint outside the workspace, where the agent cannot rewrite it. */
export async function saveBaseline(dataDir: string, sessionId: string, manifest: Manifest): Promise<void> {
  const file = baselineFile(dataDir, sessionId);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(`${file}.tmp`, JSON.stringify(Object.fromEntries(manifest)), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

export async function loadBaseline(dataDir: string, sessionId: string): Promise<Manifest> {
  const text = await readFile(baselineFile(dataDir, sessionId), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '{}';
    throw error;
  });
  return new Map(Object.entries(JSON.parse(text) as Record<string, FileFingerprint>));
}

export async function listChanges(dataDir: string, sessionId: string, dir: string): Promise<{ files: ChangedFile[]; truncated: boolean }> {
  const base = await loadBaseline(dataDir, sessionId);
  const current = await fingerprint(dir, base);
  const files = compareManifests(base, current);
  return { files: files.slice(0, MAX_LISTED_CHANGES), truncated: files.length > MAX_LISTED_CHANGES };
}

/** The agent's version of one file; `null` content when it does not exist (deleted). Never follows links. */
/** Files the control plane writes for the agent runtime (config, skills) and folders never compared: not the agent's work, never served. */
export function isHarnessOwned(relative: string): boolean {
  const segments = relative.split('/');
  if (segments.length === 1 && SKIPPED_ROOT_FILES.has(segments[0] as string)) return true;
  return segments.slice(0, -1).some((segment) => SKIPPED_DIRS.has(segment) && segment !== 'node_modules');
}

export async function readWorkspaceFile(dir: string, relative: string): Promise<{ content: Buffer | null; sha256: string | null }> {
  const root = path.resolve(dir);
  const target = path.resolve(root, relative);
  if (!target.startsWith(`${root}${path.sep}`)) throw new AppError('BAD_REQUEST', `The path ${relative} leaves the workspace.`);
  if (isHarnessOwned(path.relative(root, target).split(path.sep).join('/')))
    throw new AppError('FORBIDDEN', `${relative} is written by Switchboard for the agent runtime; it is not part of the agent's changes.`);
  let current = root;
  for (const segment of path.relative(root, target).split(path.sep)) {
    current = path.join(current, segment);
    const info = await lstat(current).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return null;
      throw error;
    });
    if (!info) return { content: null, sha256: null };
    if (info.isSymbolicLink()) throw new AppError('BAD_REQUEST', `The path ${relative} is a symbolic link in the session workspace.`);
    if (current === target) {
      if (!info.isFile()) throw new AppError('BAD_REQUEST', `The path ${relative} is not a file.`);
      if (info.size > MAX_SESSION_FILE_BYTES)
        throw new AppError(
          'PAYLOAD_TOO_LARGE',
          `The file ${relative} holds ${Math.ceil(info.size / 1048576)} MiB; files above ${MAX_SESSION_FILE_BYTES / 1048576} MiB are not transferred.`,
        );
    }
  }
  const content = await readFile(target);
  return { content, sha256: createHash('sha256').update(content).digest('hex') };
}
