import { execFile } from 'node:child_process';
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ErrorEnvelope, Upload } from '@switchboard/protocol';
import type * as vscode from 'vscode';

const run = promisify(execFile);
const MAX_FILES = 20_000;

export class UploadError extends Error {}

interface Candidate {
  path: string;
  full: string;
  bytes: number;
  executable: boolean;
}

/**
 * The files of a folder that git knows of: tracked ones plus new ones that are not ignored, as
 * they are on disk now. Links, missing files and anything under `.git` are left out.
 */
export async function gitFiles(folder: string): Promise<Candidate[]> {
  let stdout: string;
  try {
    ({ stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: folder,
      maxBuffer: 64 * 1024 * 1024,
    }));
  } catch (error) {
    const message = String((error as { stderr?: string }).stderr ?? (error as Error).message);
    if (/not a git repository/i.test(message))
      throw new UploadError(
        `${folder} is not a git repository, so there is no list of files to send. Run "git init" there, or start an empty session.`,
      );
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new UploadError('git is not installed or not on PATH; it lists the files to upload.');
    throw new UploadError(`git could not list the files of ${folder}: ${message.trim()}`);
  }
  const paths = [...new Set(stdout.split('\0').filter(Boolean))];
  const files: Candidate[] = [];
  for (const relative of paths) {
    const full = path.join(folder, relative);
    const info = await lstat(full).catch(() => null);
    if (!info?.isFile()) continue;
    files.push({ path: relative, full, bytes: info.size, executable: (info.mode & 0o111) !== 0 });
  }
  return files;
}

export function describeTooLarge(files: readonly Candidate[], limitBytes: number): string {
  const total = files.reduce((sum, file) => sum + file.bytes, 0);
  const biggest = [...files]
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 3)
    .map((file) => `${file.path} (${(file.bytes / 1048576).toFixed(1)} MiB)`)
    .join(', ');
  return `The workspace holds ${(total / 1048576).toFixed(1)} MiB of files; the upload limit is ${Math.floor(limitBytes / 1048576)} MiB. Largest: ${biggest}. Ignore generated files in .gitignore, or raise "switchboard.uploadLimitMiB" (the server has its own limit too).`;
}

/** Sends the folder's files to the control plane; returns the upload to seed a session from. */
export async function uploadFolder(
  options: { serverUrl: string; token: string; folder: string; limitBytes: number },
  progress: vscode.Progress<{ message?: string; increment?: number }>,
  cancel: vscode.CancellationToken,
): Promise<Upload> {
  progress.report({ message: 'Listing files…' });
  const files = await gitFiles(options.folder);
  if (files.length === 0) throw new UploadError(`${options.folder} has no files git knows of. Add some, or start an empty session.`);
  if (files.length > MAX_FILES) throw new UploadError(`The folder holds ${files.length} files; at most ${MAX_FILES} can be uploaded.`);
  const total = files.reduce((sum, file) => sum + file.bytes, 0);
  if (total > options.limitBytes) throw new UploadError(describeTooLarge(files, options.limitBytes));
  const body: { path: string; content: string; executable: boolean }[] = [];
  for (const [index, file] of files.entries()) {
    if (cancel.isCancellationRequested) throw new UploadError('Upload cancelled.');
    body.push({ path: file.path, content: (await readFile(file.full)).toString('base64'), executable: file.executable });
    if (index % 200 === 0)
      progress.report({ message: `Reading files ${index + 1}/${files.length}…`, increment: (200 / files.length) * 50 });
  }
  progress.report({ message: `Uploading ${files.length} files (${(total / 1048576).toFixed(1)} MiB)…` });
  const abort = new AbortController();
  const listener = cancel.onCancellationRequested(() => abort.abort());
  try {
    const response = await fetch(`${options.serverUrl}/api/v1/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ files: body }),
      signal: abort.signal,
    });
    const json: unknown = await response.json().catch(() => null);
    if (!response.ok) {
      const envelope = ErrorEnvelope.safeParse(json);
      throw new UploadError(envelope.success ? envelope.data.error.message : `The upload failed (HTTP ${response.status}).`);
    }
    const upload = Upload.safeParse(json);
    if (!upload.success) throw new UploadError('The server answered the upload in an unexpected shape; is the extension up to date?');
    return upload.data;
  } catch (error) {
    if (error instanceof UploadError) throw error;
    if (abort.signal.aborted) throw new UploadError('Upload cancelled.');
    throw new UploadError(`The upload did not reach Switchboard: ${(error as Error).message}`);
  } finally {
    listener.dispose();
  }
}
