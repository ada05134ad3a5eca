import type { Budget, BudgetPeriod } from '@switchboard/protocol';
import type { Queryable } from '../db/client.js';
import { periodEnd, periodStart } from './periods.js';

export interface BudgetRow {
  id: string;
  user_id: string | null;
  team_id: string | null;
  period: BudgetPeriod;
  limit_micros: bigint;
  soft_alert_pct: number;
  period_start: Date;
  spent_micros: bigint;
  reserved_micros: bigint;
  alerted_period_start: Date | null;
}

/** A budget as people see it now: spend of an elapsed period reads as zero until the next charge rolls it over. */
export function toBudget(row: BudgetRow, now: Date, timeZone: string): Budget {
  const start = periodStart(row.period, now, timeZone);
  const current = row.period_start >= start;
  return {
    id: row.id,
    scope: row.user_id ? 'user' : 'team',
    userId: row.user_id,
    teamId: row.team_id,
    period: row.period,
    limitMicros: Number(row.limit_micros),
    softAlertPct: row.soft_alert_pct,
    periodStart: start.toISOString(),
    periodEnd: periodEnd(row.period, start, timeZone)?.toISOString() ?? null,
    spentMicros: current ? Number(row.spent_micros) : 0,
    reservedMicros: Number(row.reserved_micros),
  };
}

/** The user's own budgets and those of every team they belong to, in id order (the lock order). */
export function budgetsForUser(sql: Queryable, userId: string): Promise<BudgetRow[]> {
  return sql<BudgetRow[]>`
    select * from budgets
    where user_id = ${userId} or team_id in (select team_id from team_members where user_id = ${userId})
    order by id`;
}

export function budgetsOf(sql: Queryable, owner: { userId: string } | { teamId: string }): Promise<BudgetRow[]> {
  return 'userId' in owner
    ? sql<BudgetRow[]>`select * from budgets where user_id = ${owner.userId} order by period`
    : sql<BudgetRow[]>`select * from budgets where team_id = ${owner.teamId} order by period`;
}

export async function upsertBudget(
  sql: Queryable,
  owner: { userId: string } | { teamId: string },
  budget: { period: BudgetPeriod; limitMicros: number; softAlertPct: number; periodStart: Date },
): Promise<BudgetRow> {
  const userId = 'userId' in owner ? owner.userId : null;
  const teamId = 'teamId' in owner ? owner.teamId : null;
  const conflictTarget = userId ? sql`(user_id, period) where user_id is not null` : sql`(team_id, period) where team_id is not null`;
  const [row] = await sql<BudgetRow[]>`
    insert into budgets (user_id, team_id, period, limit_micros, soft_alert_pct, period_start)
    values (${userId}, ${teamId}, ${budget.period}, ${budget.limitMicros}, ${budget.softAlertPct}, ${budget.periodStart})
    on conflict ${conflictTarget} do update set limit_micros = excluded.limit_micros, soft_alert_pct = excluded.soft_alert_pct, updated_at = now()
    returning *`;
  return row as BudgetRow;
}

export async function deleteBudget(
  sql: Queryable,
  owner: { userId: string } | { teamId: string },
  period: BudgetPeriod,
): Promise<BudgetRow | undefined> {
  const [row] =
    'userId' in owner
      ? await sql<BudgetRow[]>`delete from budgets where user_id = ${owner.userId} and period = ${period} returning *`
      : await sql<BudgetRow[]>`delete from budgets where team_id = ${owner.teamId} and period = ${period} returning *`;
  return row;
}

/**
 * Holds `amount` against one budget if it fits: one conditional UPDATE, so concurrent calls can
 * never together pass the limit. An elapsed period rolls over (spend back to zero) in the same
 * statement. Returns false when the budget cannot hold the amount.
 */
export async function tryReserve(sql: Queryable, id: string, amount: bigint, currentStart: Date): Promise<boolean> {
  const rows = await sql`
    update budgets set
      spent_micros = case when period_start < ${currentStart} then 0 else spent_micros end,
      period_start = greatest(period_start, ${currentStart}),
      reserved_micros = reserved_micros + ${amount},
      updated_at = now()
    where id = ${id}
      and (case when period_start < ${currentStart} then 0 else spent_micros end) + reserved_micros + ${amount} <= limit_micros
    returning 1`;
  return rows.count === 1;
}

/** Moves a call from reserved to spent: releases what was held (when still held) and charges the cost. */
export async function charge(
  sql: Queryable,
  id: string,
  released: bigint,
  cost: bigint,
  currentStart: Date,
): Promise<BudgetRow | undefined> {
  const [row] = await sql<BudgetRow[]>`
    update budgets set
      spent_micros = (case when period_start < ${currentStart} then 0 else spent_micros end) + ${cost},
      period_start = greatest(period_start, ${currentStart}),
      reserved_micros = reserved_micros - ${released},
      updated_at = now()
    where id = ${id}
    returning *`;
  return row;
}

export async function release(sql: Queryable, id: string, amount: bigint): Promise<void> {
  await sql`update budgets set reserved_micros = reserved_micros - ${amount}, updated_at = now() where id = ${id}`;
}

export async function markAlerted(sql: Queryable, row: BudgetRow): Promise<boolean> {
  const updated = await sql`
    update budgets set alerted_period_start = ${row.period_start}
    where id = ${row.id} and alerted_period_start is distinct from ${row.period_start}
    returning 1`;
  if (updated.count === 0) return false;
  await sql`
    insert into budget_alerts (budget_id, user_id, team_id, period_start, spent_micros, limit_micros)
    values (${row.id}, ${row.user_id}, ${row.team_id}, ${row.period_start}, ${row.spent_micros}, ${row.limit_micros})`;
  return true;
}
