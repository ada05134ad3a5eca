import { z } from 'zod';

export const Id = z.uuid();
export type Id = z.infer<typeof Id>;

export const Timestamp = z.iso.datetime({ offset: true });
export type Timestamp = z.infer<typeof Timestamp>;

/** Keyset pagination: pass back `nextCursor` as `cursor` to read the next page. */
export const PageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
});
export type PageQuery = z.infer<typeof PageQuery>;

export function Page<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    nextCursor: z.string().nullable(),
  });
}

export const IdParams = z.strictObject({ id: Id });
export type IdParams = z.infer<typeof IdParams>;

/**
 * Why `value` is not a workspace path, or `undefined` when it is one: relative, forward slashes,
 * no empty, `.` or `..` segments, no NUL, no backslashes. The extension applies the same rule to
 * every path the control plane names before it touches a local file.
 */
export function workspacePathProblem(value: string): string | undefined {
  if (value.length === 0 || value.length > 1024) return 'Must be 1 to 1024 characters long';
  if (value.startsWith('/') || value.includes('\u0000') || value.includes('\\')) return 'Must be a relative path with forward slashes';
  if (!value.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..')) {
    return 'Must not contain empty, . or .. segments';
  }
  return undefined;
}

/**
 * A workspace path as uploaded: relative, forward slashes, no `.`/`..` segments, no NUL, no
 * backslashes. The server checks again where it writes (no symlinks, no escaping the workspace).
 */
export const WorkspacePath = z
  .string()
  .min(1)
  .max(1024)
  .superRefine((value, ctx) => {
    const problem = value.length > 0 && value.length <= 1024 ? workspacePathProblem(value) : undefined;
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
export type WorkspacePath = z.infer<typeof WorkspacePath>;

/** Whether `value` names an IANA time zone this runtime knows (`UTC`, `Europe/Berlin`). */
export function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}
