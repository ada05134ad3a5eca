import { z } from 'zod';
import { Id } from '../common.js';
import { User } from './users.js';

export const Me = z.object({
  user: User,
  tokenId: Id,
  teams: z.array(z.object({ id: Id, name: z.string() })),
});
export type Me = z.infer<typeof Me>;
