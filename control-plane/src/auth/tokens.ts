import { createHash, randomBytes } from 'node:crypto';
import { TOKEN_PREFIX } from '@switchboard/protocol';

/** 32 random bytes: a token is unguessable, so a fast hash is enough to store it safely. */
export function generateToken(): { token: string; hash: Buffer; hint: string } {
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashToken(token), hint: token.slice(0, TOKEN_PREFIX.length + 4) };
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
