import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeMasterKey } from '../config.js';

/**
 * AES-256-GCM sealing of secrets at rest. A sealed value reads
 * `v1.<key id>.<iv>.<tag>.<ciphertext>` (base64url parts); the context (for example the provider
 * id) is authenticated as associated data, so a sealed key cannot be moved to another row.
 */
export interface Vault {
  keyId: string;
  seal(plaintext: string, context: string): string;
  open(sealed: string, context: string): string;
}

export class VaultError extends Error {
  override name = 'VaultError';
}

export function createVault(masterKey: Buffer): Vault {
  if (masterKey.length !== 32) throw new VaultError('The vault master key must be 32 bytes.');
  const keyId = createHash('sha256').update(masterKey).digest('hex').slice(0, 8);
  return {
    keyId,
    seal(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', masterKey, iv);
      cipher.setAAD(Buffer.from(context));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', keyId, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.');
    },
    open(sealed, context) {
      const [version, sealedKeyId, iv, tag, ciphertext] = sealed.split('.');
      if (version !== 'v1' || !iv || !tag || ciphertext === undefined)
        throw new VaultError('This secret is not in a format the vault knows.');
      if (sealedKeyId !== keyId) {
        throw new VaultError(
          `This secret was sealed with another master key (${sealedKeyId}); the current key is ${keyId}. Restore the original key.`,
        );
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', masterKey, Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(context));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new VaultError('This secret failed its integrity check: it was altered or belongs to another record.');
      }
    },
  };
}

/** The master key from the environment, else from `<dataDir>/master.key`, created (0600) on first start. */
export async function loadMasterKey(fromEnv: Buffer | undefined, dataDir: string): Promise<Buffer> {
  if (fromEnv) return fromEnv;
  const file = path.join(dataDir, 'master.key');
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing !== undefined) {
    const key = decodeMasterKey(existing);
    if (!key) throw new VaultError(`${file} does not hold a 32-byte key (64 hex characters or base64). Restore it from your backup.`);
    return key;
  }
  const key = randomBytes(32);
  await writeFile(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(file, 0o600);
  return key;
}

/** What the API shows of a secret: its last four characters. */
export const lastFour = (secret: string) => secret.slice(-4);
