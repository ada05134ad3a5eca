import { z } from 'zod';
import { Id, Timestamp } from '../common.js';
import { SecretName } from './agents.js';

/** A vault secret as the API shows it: never its value, only its last four characters. */
export const Secret = z.object({
  name: z.string(),
  last4: z.string(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  updatedBy: Id.nullable(),
});
export type Secret = z.infer<typeof Secret>;

export const PutSecretBody = z.strictObject({
  name: SecretName,
  value: z.string().min(8).max(16_000).describe('Sealed in the vault at once; shown again only as its last four characters'),
});
export type PutSecretBody = z.infer<typeof PutSecretBody>;

export const SecretParams = z.strictObject({ name: SecretName });
export type SecretParams = z.infer<typeof SecretParams>;

export const SecretList = z.object({ items: z.array(Secret) });
export type SecretList = z.infer<typeof SecretList>;
