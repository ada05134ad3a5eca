import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkEscape } from '../../../extension/src/edits/real-path.js';
import { containedPath, insideReal, RefusedPathError, refusedPaths } from '../../../extension/src/edits/workspace-path.js';

const FOLDER = '/home/ada/project';

describe('containedPath', () => {
  it('accepts relative paths inside the folder, dots inside names included', () => {
    for (const relative of ['a.ts', 'src/app.ts', '.github/workflows/ci.yml', 'a..b/c', '..hidden', 'notes/v1.2.md', 'with space/x']) {
      expect(containedPath(FOLDER, relative), relative).toMatchObject({ ok: true, segments: relative.split('/') });
    }
    expect(containedPath('/c:/Users/ada/project', 'src/app.ts')).toEqual({ ok: true, segments: ['src', 'app.ts'] });
    expect(containedPath(`${FOLDER}/`, 'a')).toEqual({ ok: true, segments: ['a'] });
  });

  it('refuses .. segments, however deep', () => {
    for (const relative of ['..', '../x', '../../.bashrc', 'a/../../x', 'a/b/../../../etc/passwd', 'a/..']) {
      expect(containedPath(FOLDER, relative), relative).toEqual({ ok: false, reason: 'it has an empty, "." or ".." segment' });
    }
  });

  it('refuses absolute paths, drives and backslash tricks', () => {
    for (const relative of ['/etc/passwd', '//server/share/x', '\\..\\x', 'a\\..\\..\\b', '..\\x', 'C:\\Windows']) {
      expect(containedPath(FOLDER, relative), relative).toEqual({ ok: false, reason: 'it is absolute or uses backslashes' });
    }
    for (const relative of ['C:/Windows/system.ini', 'c:x', 'Z:']) {
      expect(containedPath(FOLDER, relative), relative).toEqual({ ok: false, reason: 'it names a drive (an absolute path)' });
    }
  });

  it('refuses empty paths and empty or "." segments', () => {
    for (const relative of ['', 'a//b', 'a/', './a', 'a/./b']) {
      expect(containedPath(FOLDER, relative).ok, relative).toBe(false);
    }
    expect(containedPath(FOLDER, 'x'.repeat(1025))).toEqual({ ok: false, reason: 'it is empty or too long' });
  });

  it('refuses what Windows reads as . or .., control characters, and what is not a string', () => {
    for (const relative of ['.. /x', '.../x', 'a/ ./b', 'a/. /b', 'a/....']) {
      expect(containedPath(FOLDER, relative), relative).toEqual({ ok: false, reason: 'it has a segment Windows reads as "." or ".."' });
    }
    for (const relative of ['a\u0000b', 'a\nb', 'line\r/x']) expect(containedPath(FOLDER, relative).ok, relative).toBe(false);
    for (const value of [undefined, null, 5, ['a']])
      expect(containedPath(FOLDER, value)).toEqual({ ok: false, reason: 'it is not a path' });
  });
});

describe('insideReal', () => {
  it('compares real paths by segment, on POSIX and Windows', () => {
    expect(insideReal('/ws', '/ws', path.posix)).toBe(true);
    expect(insideReal('/ws', '/ws/a/b', path.posix)).toBe(true);
    expect(insideReal('/ws', '/ws/..a', path.posix)).toBe(true);
    expect(insideReal('/ws', '/wsx/a', path.posix)).toBe(false);
    expect(insideReal('/ws', '/etc/passwd', path.posix)).toBe(false);
    expect(insideReal('/ws', '/', path.posix)).toBe(false);
    expect(insideReal('C:\\ws', 'C:\\ws\\a', path.win32)).toBe(true);
    expect(insideReal('C:\\ws', 'D:\\ws\\a', path.win32)).toBe(false);
    expect(insideReal('C:\\ws', 'C:\\other', path.win32)).toBe(false);
  });
});

describe('linkEscape', () => {
  let base: string;
  let folder: string;
  beforeAll(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'switchboard-paths-'));
    folder = path.join(base, 'workspace');
    await mkdir(path.join(folder, 'src'), { recursive: true });
    await mkdir(path.join(base, 'outside'));
    await writeFile(path.join(base, 'outside', 'secret'), 'x');
    await symlink(path.join(base, 'outside'), path.join(folder, 'escape'));
    await symlink(path.join(base, 'outside', 'secret'), path.join(folder, 'secret-link'));
    await symlink(path.join(base, 'outside', 'missing'), path.join(folder, 'dangling'));
    await symlink(path.join(folder, 'src'), path.join(folder, 'src-alias'));
  });
  afterAll(async () => rm(base, { recursive: true, force: true }));

  it('lets files and new directories inside the folder through, links that stay inside included', async () => {
    expect(await linkEscape(folder, path.join(folder, 'src', 'app.ts'))).toBeUndefined();
    expect(await linkEscape(folder, path.join(folder, 'new', 'deep', 'file.ts'))).toBeUndefined();
    expect(await linkEscape(folder, path.join(folder, 'src-alias', 'app.ts'))).toBeUndefined();
  });

  it('refuses a write through a linked directory or a linked file that points outside, or nowhere', async () => {
    expect(await linkEscape(folder, path.join(folder, 'escape', 'authorized_keys'))).toMatch(/points outside the folder/);
    expect(await linkEscape(folder, path.join(folder, 'escape', 'new', 'file'))).toMatch(/points outside the folder/);
    expect(await linkEscape(folder, path.join(folder, 'secret-link'))).toMatch(/points outside the folder/);
    expect(await linkEscape(folder, path.join(folder, 'dangling'))).toMatch(/points nowhere/);
  });
});

describe('RefusedPathError', () => {
  it('names the refused path, quoted so hidden characters show', () => {
    const error = new RefusedPathError('../../.ssh/authorized_keys', 'it has an empty, "." or ".." segment');
    expect(error.message).toBe(
      'Switchboard refused the path "../../.ssh/authorized_keys" from the control plane: it has an empty, "." or ".." segment. It only touches files inside the folder.',
    );
    expect(new RefusedPathError('a\nb', 'it holds a control character').message).toContain('"a\\nb"');
    expect(new RefusedPathError('x'.repeat(5000), 'too long').message.length).toBeLessThan(400);
    const many = Array.from({ length: 7 }, (_, i) => new RefusedPathError(`../${i}`, 'r'));
    expect(refusedPaths(many)).toBe('"../0", "../1", "../2", "../3", "../4" and 2 more');
  });
});
