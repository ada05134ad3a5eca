import { z } from 'zod';
import { Id, Page, PageQuery, Timestamp } from '../common.js';

export const Role = z.enum(['admin', 'member', 'viewer']).describe('admin: everything; member: own sessions; viewer: read-only');
export type Role = z.infer<typeof Role>;

export const Email = z
  .email()
  .max(254)
  .transform((value) => value.toLowerCase());

export const DisplayName = z.string().trim().min(1).max(120);

export const User = z.object({
  id: Id,
  email: z.string(),
  displayName: z.string(),
  role: Role,
  disabled: z.boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type User = z.infer<typeof User>;

export const CreateUserBody = z.strictObject({
  email: Email,
  displayName: DisplayName,
  role: Role.default('member'),
});
export type CreateUserBody = z.input<typeof CreateUserBody>;

export const UpdateUserBody = z
  .strictObject({
    displayName: DisplayName.optional(),
    role: Role.optional(),
    disabled: z.boolean().optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'Give at least one of displayName, role, disabled' });
export type UpdateUserBody = z.infer<typeof UpdateUserBody>;

export const ListUsersQuery = PageQuery.extend({
  role: Role.optional(),
  includeDisabled: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional(),
});
export type ListUsersQuery = z.infer<typeof ListUsersQuery>;

export const UserPage = Page(User);
export type UserPage = z.infer<typeof UserPage>;
