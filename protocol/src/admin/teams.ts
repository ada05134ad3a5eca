import { z } from 'zod';
import { Id, Timestamp } from '../common.js';
import { Role } from './users.js';

export const TeamName = z
  .string()
  .trim()
  .min(1)
  .max(80)
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} ._-]*$/u, 'Use letters, digits, spaces, dots, dashes or underscores');

export const TeamMember = z.object({
  userId: Id,
  email: z.string(),
  displayName: z.string(),
  role: Role,
  addedAt: Timestamp,
});
export type TeamMember = z.infer<typeof TeamMember>;

export const Team = z.object({
  id: Id,
  name: z.string(),
  createdAt: Timestamp,
  members: z.array(TeamMember),
});
export type Team = z.infer<typeof Team>;

export const CreateTeamBody = z.strictObject({ name: TeamName });
export type CreateTeamBody = z.infer<typeof CreateTeamBody>;

export const AddMemberBody = z.strictObject({ userId: Id });
export type AddMemberBody = z.infer<typeof AddMemberBody>;

export const TeamMemberParams = z.strictObject({ id: Id, userId: Id });
export type TeamMemberParams = z.infer<typeof TeamMemberParams>;

export const TeamList = z.object({ items: z.array(Team) });
export type TeamList = z.infer<typeof TeamList>;
