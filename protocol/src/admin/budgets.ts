import { z } from 'zod';
import { Id, Timestamp } from '../common.js';

export const BudgetPeriod = z.enum(['day', 'week', 'month', 'total']);
export type BudgetPeriod = z.infer<typeof BudgetPeriod>;

export const BudgetScope = z.enum(['user', 'team']);
export type BudgetScope = z.infer<typeof BudgetScope>;

/** Money is integer micro-dollars: $1.00 = 1000000. */
export const Micros = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const Budget = z.object({
  id: Id,
  scope: BudgetScope,
  userId: Id.nullable(),
  teamId: Id.nullable(),
  period: BudgetPeriod,
  limitMicros: Micros,
  softAlertPct: z.number().int(),
  periodStart: Timestamp,
  periodEnd: Timestamp.nullable(),
  spentMicros: Micros,
  reservedMicros: Micros,
});
export type Budget = z.infer<typeof Budget>;

export const SetBudgetBody = z.strictObject({
  limitMicros: Micros.describe('Spending limit in micro-dollars for each period'),
  softAlertPct: z.number().int().min(1).max(100).default(80).describe('Alert once per period when spend crosses this percentage'),
});
export type SetBudgetBody = z.input<typeof SetBudgetBody>;

export const BudgetParams = z.strictObject({ id: Id, period: BudgetPeriod });
export type BudgetParams = z.infer<typeof BudgetParams>;

export const BudgetList = z.object({ items: z.array(Budget) });
export type BudgetList = z.infer<typeof BudgetList>;

export const SpendQuery = z.strictObject({ period: BudgetPeriod.default('month') });
export type SpendQuery = z.infer<typeof SpendQuery>;

export const ModelSpend = z.object({
  model: z.string(),
  calls: z.number().int(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  cacheReadTokens: z.number().int(),
  cacheWriteTokens: z.number().int(),
  costMicros: Micros,
});
export type ModelSpend = z.infer<typeof ModelSpend>;

export const Spend = z.object({
  userId: Id,
  period: BudgetPeriod,
  from: Timestamp,
  to: Timestamp.nullable(),
  totalMicros: Micros,
  byModel: z.array(ModelSpend),
  budgets: z.array(Budget),
});
export type Spend = z.infer<typeof Spend>;

/** What a refused model call says about the budget that refused it (402, code BUDGET_EXCEEDED). */
export const BudgetRefusal = z.object({
  scope: BudgetScope,
  period: BudgetPeriod,
  budgetId: Id,
  teamId: Id.nullable(),
  limitMicros: Micros,
  spentMicros: Micros,
  reservedMicros: Micros,
  requestedMicros: Micros,
});
export type BudgetRefusal = z.infer<typeof BudgetRefusal>;
