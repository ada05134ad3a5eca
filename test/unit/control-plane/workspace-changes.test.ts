import { createHash } from 'node:crypto';
import { rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compareManifests, fingerprint } from '../../../control-plane/src/sessions/workspace-changes.js';
import { makeTempDir } from '../../fixtures/temp.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe('workspace fingerprints', () => {
  let dir = '';
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('reuses a known hash only while size and modification time are unchanged', async () => {
    dir = await makeTempDir('fingerprint');
    const file = path.join(dir, 'a.ts');
    await writeFile(file, 'one\n');
    await utimes(file, 1_700_000_000, 1_700_000_000);
    const base = await fingerprint(dir);
    expect(base.get('a.ts')).toMatchObject({ sha256: sha('one\n'), bytes: 4 });

    // Same size and time: the known hash is taken as is (here a planted one proves no re-read).
    const planted = new Map([['a.ts', { ...base.get('a.ts')!, sha256: 'planted' }]]);
    expect((await fingerprint(dir, planted)).get('a.ts')?.sha256).toBe('planted');

    // Same size, new content and time: hashed again, and reported as modified.
    await writeFile(file, 'two\n');
    const now = await fingerprint(dir, base);
    expect(now.get('a.ts')?.sha256).toBe(sha('two\n'));
    expect(compareManifests(base, now)).toEqual([
      { path: 'a.ts', status: 'modified', baseSha256: sha('one\n'), sha256: sha('two\n'), bytes: 4 },
    ]);
  });
});
