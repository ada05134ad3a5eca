import { z } from 'zod';

/** One approval rule: the last rule whose tool and pattern match decides. Globs: `*` any run, `?` one character. */
export const ApprovalRule = z.strictObject({
  tool: z.string().min(1).max(100).describe('Tool or permission name (bash, edit, read, webfetch, …) or a glob'),
  pattern: z.string().min(1).max(1000).default('*').describe('Glob over what the tool acts on: a command, a path, a URL'),
  action: z.enum(['allow', 'ask', 'deny']),
});
export type ApprovalRule = z.infer<typeof ApprovalRule>;
export const ApprovalPolicy = z.array(ApprovalRule).max(200);
export type ApprovalPolicy = z.infer<typeof ApprovalPolicy>;
