import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// The little of `vscode` these functions use, with VS Code's documented `joinPath` behaviour: the
// segments are joined and normalized as POSIX paths, so `..` climbs out of the folder.
vi.mock('vscode', () => {
  const make = (scheme: string, uriPath: string) => ({ scheme, path: uriPath, fsPath: uriPath, toString: () => `${scheme}://${uriPath}` });
  return {
    Uri: {
      file: (fsPath: string) => make('file', fsPath),
      joinPath: (base: { scheme: string; path: string }, ...segments: string[]) =>
        make(base.scheme, path.posix.join(base.path, ...segments)),
    },
  };
});

const { localUri, writableUri } = await import('../../../extension/src/edits/local-files.js');
const { RefusedPathError } = await import('../../../extension/src/edits/workspace-path.js');
const vscode = (await import('vscode')) as unknown as { Uri: { file(fsPath: string): never } };

describe('localUri', () => {
  const folder = vscode.Uri.file('/home/ada/project');

  it('maps a path inside the folder to its file', () => {
    expect(localUri(folder, 'src/app.ts').path).toBe('/home/ada/project/src/app.ts');
  });

  it('refuses a path the control plane sent that would climb out of the folder, naming it', () => {
    for (const relative of ['../../.bashrc', 'a/../../../etc/cron.d/job', '/etc/passwd', '..\\..\\x', 'a//b']) {
      expect(() => localUri(folder, relative), relative).toThrow(RefusedPathError);
    }
    expect(() => localUri(folder, '../../.bashrc')).toThrow('Switchboard refused the path "../../.bashrc" from the control plane');
  });
});

describe('writableUri', () => {
  let base: string;
  beforeAll(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'switchboard-local-'));
    await mkdir(path.join(base, 'workspace'));
    await mkdir(path.join(base, 'home'));
    await symlink(path.join(base, 'home'), path.join(base, 'workspace', 'home-link'));
  });
  afterAll(async () => rm(base, { recursive: true, force: true }));

  it('refuses a write through a symbolic link in the folder that points outside it', async () => {
    const folder = vscode.Uri.file(path.join(base, 'workspace'));
    expect((await writableUri(folder, 'src/new.ts')).path).toBe(path.join(base, 'workspace', 'src', 'new.ts'));
    await expect(writableUri(folder, 'home-link/.bashrc')).rejects.toThrow(/"home-link\/.bashrc".*points outside the folder/);
  });
});
