import { z } from 'zod';

/** At most this many `*` in one glob: matching stays linear, and no rule needs more. */
export const MAX_GLOB_STARS = 16;
const glob = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((value) => value.split('*').length - 1 <= MAX_GLOB_STARS, `At most ${MAX_GLOB_STARS} "*" in one glob`);

/** One approval rule: the last rule whose tool and pattern match decides. Globs: `*` any run, `?` one character. */
export const ApprovalRule = z.strictObject({
  tool: glob(100).describe('Tool or permission name (bash, edit, read, webfetch, …) or a glob'),
  pattern: glob(1000).default('*').describe('Glob over what the tool acts on: a command, a path, a URL'),
  action: z.enum(['allow', 'ask', 'deny']),
  approver: z
    .enum(['owner', 'admin'])
    .optional()
    .describe('Who may allow an ask: the session’s owner (default) or an admin only; anyone with access may refuse'),
});
export type ApprovalRule = z.infer<typeof ApprovalRule>;
export const ApprovalPolicy = z.array(ApprovalRule).max(200);
export type ApprovalPolicy = z.infer<typeof ApprovalPolicy>;
