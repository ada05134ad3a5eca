import { z } from 'zod';
import { Id, Timestamp } from '../common.js';

/** Every API token starts with this prefix, so leaked tokens are easy to recognize and scan for. */
export const TOKEN_PREFIX = 'sb_';
export const TokenString = z.string().regex(/^sb_[A-Za-z0-9_-]{20,100}$/, 'Not a Switchboard token');

export const ApiToken = z.object({
  id: Id,
  userId: Id,
  name: z.string(),
  /** The first characters of the token (`sb_abcd`), enough to recognize it, never enough to use it. */
  hint: z.string(),
  createdAt: Timestamp,
  expiresAt: Timestamp.nullable(),
  lastUsedAt: Timestamp.nullable(),
  revokedAt: Timestamp.nullable(),
});
export type ApiToken = z.infer<typeof ApiToken>;

export const CreateTokenBody = z.strictObject({
  name: z.string().trim().min(1).max(120),
  /** Admins only: create the token for another user. */
  userId: Id.optional(),
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});
export type CreateTokenBody = z.infer<typeof CreateTokenBody>;

/** The only response that ever carries a token's secret value; it is shown once. */
export const CreatedToken = ApiToken.extend({ token: TokenString });
export type CreatedToken = z.infer<typeof CreatedToken>;

export const ListTokensQuery = z.strictObject({
  /** Admins only: list another user's tokens. */
  userId: Id.optional(),
  includeRevoked: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional(),
});
export type ListTokensQuery = z.infer<typeof ListTokensQuery>;

export const TokenList = z.object({ items: z.array(ApiToken) });
export type TokenList = z.infer<typeof TokenList>;
