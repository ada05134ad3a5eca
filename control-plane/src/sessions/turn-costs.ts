import type { BudgetRefusal, SessionEvent } from '@switchboard/protocol';
import { describeSessionCap } from '../agents/session-budget.js';
import type { Sql } from '../db/client.js';
import { costOf } from '../gateway/pricing.js';
import { describeRefusal } from '../gateway/refusal.js';
import type { HarnessEvent } from '../harness/harness.js';
import type { ProviderService } from '../providers/provider-service.js';

type HarnessUsage = Extract<HarnessEvent, { kind: 'usage' }>['usage'];

/** A step's tokens as a `usage` event, priced with the model's prices in the database (0 for an unknown model). */
export async function usageEvent(providers: ProviderService, usage: HarnessUsage): Promise<SessionEvent> {
  const resolved = await providers.resolve(usage.model);
  const costMicros = resolved
    ? Number(
        costOf(
          { input: usage.input, output: usage.output + usage.reasoning, cacheRead: usage.cacheRead, cacheWrite: usage.cacheWrite },
          {
            input: resolved.model.price_input,
            output: resolved.model.price_output,
            cacheRead: resolved.model.price_cache_read,
            cacheWrite: resolved.model.price_cache_write,
          },
        ),
      )
    : 0;
  return {
    type: 'usage',
    messageId: usage.messageId,
    model: usage.model,
    inputTokens: usage.input,
    outputTokens: usage.output,
    reasoningTokens: usage.reasoning,
    cacheReadTokens: usage.cacheRead,
    cacheWriteTokens: usage.cacheWrite,
    costMicros,
  };
}

/** The gateway refused a call of this turn: people get the figures, from the refusal the gateway recorded. */
export async function budgetReason(sql: Sql, sessionId: string): Promise<{ message: string; details?: Record<string, unknown> }> {
  const [row] = await sql<{ payload: { refusal?: BudgetRefusal; sessionCap?: { limitMicros: number; spentMicros: number } } }[]>`
    select payload from audit_events where action = 'gateway.refused' and target_type = 'session' and target_id = ${sessionId}
    order by id desc limit 1`;
  const { refusal, sessionCap } = row?.payload ?? {};
  if (sessionCap) return { message: describeSessionCap(sessionCap), details: { sessionBudget: sessionCap } };
  if (!refusal) return { message: 'Budget reached for this period. Ask an admin to raise it.' };
  return { message: describeRefusal(refusal), details: { budget: refusal } };
}
