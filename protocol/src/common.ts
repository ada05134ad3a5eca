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
 * A workspace path as uploaded: relative, forward slashes, no `.`/`..` segments, no NUL, no
 * backslashes. The server checks again where it writes (no symlinks, no escaping the workspace).
 */
export const WorkspacePath = z
  .string()
  .min(1)
  .max(1024)
  .refine(
    (value) => !value.startsWith('/') && !value.includes('\u0000') && !value.includes('\\'),
    'Must be a relative path with forward slashes',
  )
  .refine(
    (value) => value.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..'),
    'Must not contain empty, . or .. segments',
  );
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
