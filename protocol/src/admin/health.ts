import { z } from 'zod';

export const Health = z.object({ status: z.literal('ok'), version: z.string() });
export type Health = z.infer<typeof Health>;

export const Readiness = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.record(
    z.string(),
    z.object({ ok: z.boolean(), latencyMs: z.number().optional(), detail: z.string().optional().describe('e.g. the runtime’s state') }),
  ),
});
export type Readiness = z.infer<typeof Readiness>;
