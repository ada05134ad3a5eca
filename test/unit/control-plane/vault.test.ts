import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createVault, loadMasterKey, VaultError } from '../../../control-plane/src/vault/vault.js';

describe('vault', () => {
  const vault = createVault(Buffer.alloc(32, 7));

  it('seals and opens a secret bound to its context', () => {
    const sealed = vault.seal('sk-ant-secret-value', 'provider-1');
    expect(sealed).toMatch(/^v1\.[0-9a-f]{8}\./);
    expect(sealed).not.toContain('secret');
    expect(vault.open(sealed, 'provider-1')).toBe('sk-ant-secret-value');
    expect(vault.seal('same', 'p')).not.toBe(vault.seal('same', 'p'));
  });

  it('refuses a secret moved to another record, altered, or sealed under another key', () => {
    const sealed = vault.seal('value', 'provider-1');
    expect(() => vault.open(sealed, 'provider-2')).toThrow(VaultError);
    const parts = sealed.split('.');
    parts[4] = Buffer.from('tampered').toString('base64url');
    expect(() => vault.open(parts.join('.'), 'provider-1')).toThrow(/integrity/);
    expect(() => createVault(Buffer.alloc(32, 8)).open(sealed, 'provider-1')).toThrow(/another master key/);
    expect(() => createVault(Buffer.alloc(16))).toThrow(/32 bytes/);
  });

  it('creates a 0600 key file once and reads it back; prefers the environment', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'switchboard-vault-'));
    try {
      const first = await loadMasterKey(undefined, dir);
      expect(first).toHaveLength(32);
      expect((await stat(path.join(dir, 'master.key'))).mode & 0o777).toBe(0o600);
      expect(await loadMasterKey(undefined, dir)).toEqual(first);
      expect(await loadMasterKey(Buffer.alloc(32, 1), dir)).toEqual(Buffer.alloc(32, 1));
      await writeFile(path.join(dir, 'master.key'), 'short');
      await expect(loadMasterKey(undefined, dir)).rejects.toThrow(/32-byte key/);
      expect(await readFile(path.join(dir, 'master.key'), 'utf8')).toBe('short');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
