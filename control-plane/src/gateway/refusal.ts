import type { BudgetRefusal, BudgetScope } from '@switchboard/protocol';
import { formatMicros } from './pricing.js';
import { errorBody, type WireFormat } from './wire.js';

/**
 * The text an agent sees when a budget refuses a call. It holds no digits and none of the words
 * (rate limit, exhausted, overloaded, unavailable, try again later …) that make OpenCode retry or
 * read an error as a context overflow, so the turn ends at once.
 */
export function refusalMessage(scope: BudgetScope): string {
  return `Spending limit reached for this period (${scope} budget). Ask an admin to raise it.`;
}

/**
 * The 402 body in the caller's format. Callers with their own API token get the figures as JSON
 * fields; the harness (per-session keys) gets only scope and period, because OpenCode retries when
 * an error body contains certain numbers anywhere. The control plane recognizes its own refusal by
 * the code and reads the figures from the audit trail.
 */
export function refusalBody(format: WireFormat, message: string, refusal: BudgetRefusal, figures: BudgetRefusal | undefined): unknown {
  const budget = figures ?? { scope: refusal.scope, period: refusal.period };
  return errorBody(format, 'budget_exceeded', 'BUDGET_EXCEEDED', message, { budget });
}

/** The wording for people, built from the figures: "Budget reached: $49.80 of $50.00 used this month (user budget)…". */
export function describeRefusal(refusal: BudgetRefusal): string {
  const used = BigInt(refusal.spentMicros) + BigInt(refusal.reservedMicros);
  const when = refusal.period === 'total' ? 'in total' : `this ${refusal.period}`;
  const whom = refusal.scope === 'team' ? 'Ask an admin to raise your team’s budget.' : 'Ask an admin to raise it.';
  return `Budget reached: ${formatMicros(used)} of ${formatMicros(refusal.limitMicros)} used ${when} (${refusal.scope} budget). ${whom}`;
}
