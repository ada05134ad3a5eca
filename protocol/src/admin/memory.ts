import { z } from 'zod';
import { Id, Timestamp } from '../common.js';

/** A memory note's key: letters, digits, dots, dashes and underscores. */
export const MemoryKey = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'Use letters, digits, dots, dashes or underscores');

/** One durable note of an agent for one user, readable and writable by the agent in every session. */
export const MemoryNote = z.object({
  agentId: Id,
  userId: Id,
  key: z.string(),
  content: z.string(),
  bytes: z.number().int().nonnegative(),
  updatedAt: Timestamp,
});
export type MemoryNote = z.infer<typeof MemoryNote>;

export const MemoryList = z.object({
  items: z.array(MemoryNote),
  usedBytes: z.number().int().nonnegative(),
  limitBytes: z.number().int().positive().describe('Total size allowed for one agent and user'),
  noteLimitBytes: z.number().int().positive().describe('Largest single note'),
});
export type MemoryList = z.infer<typeof MemoryList>;

export const MemoryContent = z.string().max(1_000_000).describe('UTF-8 text; the size limits are in bytes');

export const PutMemoryBody = z.strictObject({ content: MemoryContent });
export type PutMemoryBody = z.infer<typeof PutMemoryBody>;

export const MemoryParams = z.strictObject({ id: Id, key: MemoryKey });
export type MemoryParams = z.infer<typeof MemoryParams>;

export const MemoryQuery = z.strictObject({ userId: Id.optional().describe('Admins: another user’s notes') });
export type MemoryQuery = z.infer<typeof MemoryQuery>;
