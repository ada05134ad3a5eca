import type { Budget, BudgetPeriod, BudgetRefusal, Spend } from '@switchboard/protocol';
import type { Actor } from '../audit/actions.js';
import type { AuditService } from '../audit/audit-service.js';
import type { Queryable, Sql } from '../db/client.js';
import { isForeignKeyViolation } from '../db/errors.js';
import { notFound } from '../errors.js';
import type { Logger } from '../logger.js';
import * as repo from './budget-repository.js';
import { periodEnd, periodStart } from './periods.js';

export type BudgetService = ReturnType<typeof createBudgetService>;
export type BudgetOwner = { userId: string } | { teamId: string };

export interface Reservation {
  id: string | null;
  userId: string;
  amount: bigint;
  /** The budgets holding it, in id order (the lock order). */
  budgets: { id: string; period: BudgetPeriod }[];
}

export type ReserveResult = { ok: true; reservation: Reservation } | { ok: false; refusal: BudgetRefusal };

export interface BudgetAlert {
  budgetId: string;
  scope: 'user' | 'team';
  period: BudgetPeriod;
  spentMicros: bigint;
  limitMicros: bigint;
}

/** Budgets moved: a call settled against them (with the soft alerts it crossed), or an admin changed one. */
export interface BudgetChange {
  budgetIds: string[];
  alerts: BudgetAlert[];
  /** Set when an admin set or removed a budget of this owner. */
  owner?: BudgetOwner;
}

/** The outcome of settling a call: what its budgets were charged, and what its cost passed the reservation by. */
export interface Settlement {
  charged: bigint;
  excess: bigint;
  alerts: BudgetAlert[];
}

/**
 * The settlement rule: a call is charged its cost, but never more than it reserved. The reservation
 * is all its budgets agreed to hold, so charging above it could pass a limit that concurrent calls
 * were refused for. A cost above the reservation means the worst case was priced wrong (a provider
 * reporting more than the bounds allow, a price that changed); the excess is returned so the caller
 * records it as an anomaly.
 */
export function chargeWithin(cost: bigint, reserved: bigint): { charged: bigint; excess: bigint } {
  if (cost <= reserved) return { charged: cost, excess: 0n };
  return { charged: reserved, excess: cost - reserved };
}

class Refused extends Error {
  constructor(readonly refusal: BudgetRefusal) {
    super('budget refused');
  }
}

export function createBudgetService(options: {
  sql: Sql;
  audit: AuditService;
  log: Logger;
  timeZone: string;
  reservationTtlS: number;
  clock?: () => Date;
}) {
  const { sql, audit, log, timeZone } = options;
  const clock = options.clock ?? (() => new Date());
  const listeners = new Set<(change: BudgetChange) => void>();
  const changed = (change: BudgetChange) => {
    for (const listener of listeners) {
      try {
        listener(change);
      } catch (error) {
        log.error({ err: error }, 'a budget listener failed');
      }
    }
  };
  const ownerPayload = (owner: BudgetOwner) =>
    'userId' in owner ? { type: 'user', id: owner.userId } : { type: 'team', id: owner.teamId };

  /** Releases what the reservation still holds and charges `cost` to its budgets; returns the soft alerts crossed. */
  async function settleHeld(tx: Queryable, reservation: Reservation, cost: bigint): Promise<BudgetAlert[]> {
    const now = clock();
    let released = 0n;
    if (reservation.id) {
      const [held] = await tx<{ amount_micros: bigint }[]>`delete from reservations where id = ${reservation.id} returning amount_micros`;
      released = held?.amount_micros ?? 0n;
    }
    const alerts: BudgetAlert[] = [];
    for (const budget of reservation.budgets) {
      const row = await repo.charge(tx, budget.id, released, cost, periodStart(budget.period, now, timeZone));
      if (!row || cost === 0n) continue;
      const crossed = row.spent_micros * 100n >= row.limit_micros * BigInt(row.soft_alert_pct);
      if (crossed && (await repo.markAlerted(tx, row))) {
        alerts.push({
          budgetId: row.id,
          scope: row.user_id ? 'user' : 'team',
          period: row.period,
          spentMicros: row.spent_micros,
          limitMicros: row.limit_micros,
        });
      }
    }
    return alerts;
  }

  return {
    timeZone,

    /** Listens for budget movements, called after they commit. Returns the unsubscribe function. */
    onChange(listener: (change: BudgetChange) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    /** Tells listeners that budgets moved; callers invoke it after their transaction commits. */
    changed,

    async list(owner: BudgetOwner): Promise<Budget[]> {
      const now = clock();
      return (await repo.budgetsOf(sql, owner)).map((row) => repo.toBudget(row, now, timeZone));
    },

    /** Every budget a user's calls are held against: their own and their teams'. */
    async applicableTo(userId: string): Promise<Budget[]> {
      const now = clock();
      return (await repo.budgetsForUser(sql, userId)).map((row) => repo.toBudget(row, now, timeZone));
    },

    async set(
      actor: Actor,
      owner: BudgetOwner,
      period: BudgetPeriod,
      body: { limitMicros: number; softAlertPct: number },
    ): Promise<Budget> {
      try {
        const budget = await sql.begin(async (tx) => {
          const row = await repo.upsertBudget(tx, owner, { period, ...body, periodStart: periodStart(period, clock(), timeZone) });
          await audit.record(tx, actor, {
            action: 'budget.set',
            target: ownerPayload(owner),
            payload: { period, limitMicros: body.limitMicros, softAlertPct: body.softAlertPct },
          });
          return repo.toBudget(row, clock(), timeZone);
        });
        changed({ budgetIds: [budget.id], alerts: [], owner });
        return budget;
      } catch (error) {
        if (isForeignKeyViolation(error)) throw notFound('userId' in owner ? 'User' : 'Team');
        throw error;
      }
    },

    async remove(actor: Actor, owner: BudgetOwner, period: BudgetPeriod): Promise<void> {
      await sql.begin(async (tx) => {
        const removed = await repo.deleteBudget(tx, owner, period);
        if (!removed) throw notFound('Budget');
        await audit.record(tx, actor, { action: 'budget.delete', target: ownerPayload(owner), payload: { period } });
      });
      changed({ budgetIds: [], alerts: [], owner });
    },

    /**
     * Holds `amount` against every budget of the user in one transaction, one conditional UPDATE
     * per budget in id order (so concurrent reservations never deadlock). If any budget cannot hold
     * it, nothing is held and the refusing budget's figures come back.
     */
    async reserve(userId: string, amount: bigint): Promise<ReserveResult> {
      const now = clock();
      try {
        return await sql.begin(async (tx) => {
          const budgets = await repo.budgetsForUser(tx, userId);
          for (const budget of budgets) {
            const start = periodStart(budget.period, now, timeZone);
            if (!(await repo.tryReserve(tx, budget.id, amount, start))) throw new Refused(refusalOf(budget, amount, start));
          }
          const held = budgets.map((budget) => ({ id: budget.id, period: budget.period }));
          if (budgets.length === 0) return { ok: true as const, reservation: { id: null, userId, amount, budgets: held } };
          const budgetIds = held.map((budget) => budget.id);
          const [row] = await tx<{ id: string }[]>`
            insert into reservations (user_id, amount_micros, budget_ids, expires_at)
            values (${userId}, ${amount}, ${budgetIds}::uuid[], ${new Date(now.getTime() + options.reservationTtlS * 1000)})
            returning id`;
          return { ok: true as const, reservation: { id: row?.id ?? null, userId, amount, budgets: held } };
        });
      } catch (error) {
        if (error instanceof Refused) return { ok: false, refusal: error.refusal };
        throw error;
      }
    },

    /**
     * Inside the caller's transaction (with its usage and audit rows): releases the reservation and
     * charges the real cost to the same budgets, never more than was reserved (see `chargeWithin`).
     * Returns what was charged, the excess left uncharged, and the soft alerts the charge crossed.
     */
    async settle(tx: Queryable, reservation: Reservation, cost: bigint): Promise<Settlement> {
      const { charged, excess } = chargeWithin(cost, reservation.amount);
      const alerts = await settleHeld(tx, reservation, charged);
      return { charged, excess, alerts };
    },

    /** Releases reservations of calls that never settled (a crashed process). Safe across replicas. */
    async sweep(): Promise<number> {
      const swept = await sql.begin(async (tx) => {
        const rows = await tx<{ id: string; amount_micros: bigint; budget_ids: string[] }[]>`
          delete from reservations where id in (
            select id from reservations where expires_at < now() order by id for update skip locked limit 500)
          returning id, amount_micros, budget_ids`;
        for (const row of rows) for (const id of [...row.budget_ids].sort()) await repo.release(tx, id, row.amount_micros);
        return rows.length;
      });
      if (swept > 0) log.warn({ swept }, 'released reservations of model calls that never finished');
      return swept;
    },

    async spend(userId: string, period: BudgetPeriod): Promise<Spend> {
      const now = clock();
      const from = periodStart(period, now, timeZone);
      const rows = await sql<
        { model: string; calls: number; input: bigint; output: bigint; cache_read: bigint; cache_write: bigint; cost: bigint }[]
      >`
        select model, count(*)::int as calls, sum(input_tokens)::bigint as input, sum(output_tokens)::bigint as output,
               sum(cache_read_tokens)::bigint as cache_read, sum(cache_write_tokens)::bigint as cache_write, sum(cost_micros)::bigint as cost
        from usage_events where user_id = ${userId} and at >= ${from}
        group by model order by sum(cost_micros) desc, model`;
      const byModel = rows.map((row) => ({
        model: row.model,
        calls: row.calls,
        inputTokens: Number(row.input),
        outputTokens: Number(row.output),
        cacheReadTokens: Number(row.cache_read),
        cacheWriteTokens: Number(row.cache_write),
        costMicros: Number(row.cost),
      }));
      return {
        userId,
        period,
        from: from.toISOString(),
        to: periodEnd(period, from, timeZone)?.toISOString() ?? null,
        totalMicros: byModel.reduce((sum, model) => sum + model.costMicros, 0),
        byModel,
        budgets: (await repo.budgetsForUser(sql, userId)).map((row) => repo.toBudget(row, now, timeZone)),
      };
    },
  };
}

function refusalOf(budget: repo.BudgetRow, requested: bigint, currentStart: Date): BudgetRefusal {
  return {
    scope: budget.user_id ? 'user' : 'team',
    period: budget.period,
    budgetId: budget.id,
    teamId: budget.team_id,
    limitMicros: Number(budget.limit_micros),
    spentMicros: budget.period_start < currentStart ? 0 : Number(budget.spent_micros),
    reservedMicros: Number(budget.reserved_micros),
    requestedMicros: Number(requested),
  };
}
