import type { Actor } from '../audit/actions.js';
import type { AuditService } from '../audit/audit-service.js';
import type { BudgetService, Reservation } from '../budgets/budget-service.js';
import type { Sql } from '../db/client.js';
import type { Logger } from '../logger.js';
import type { TokenUsage } from './pricing.js';
import type { WireFormat } from './wire.js';

export interface CallRecord {
  actor: Actor;
  userId: string;
  sessionId: string | null;
  harnessSessionId: string | null;
  tokenId: string | null;
  model: string;
  providerId: string;
  format: WireFormat;
  stream: boolean;
  usage: TokenUsage | undefined;
  /** What the call cost by its usage (or the rule for calls without one); the charge is capped at the reservation. */
  cost: bigint;
  reservation: Reservation;
  latencyMs: number;
  outcome: 'ok' | 'upstream_error' | 'client_aborted' | 'broken_stream';
  status: number;
}

const ZERO: TokenUsage = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };

/**
 * One transaction per finished call: release the reservation and charge the cost, never more than
 * the reservation (the budget service's rule), write the usage row and the audit row (and any
 * soft-alert rows). Money and its record commit together. A cost above the reservation is an anomaly:
 * the audit row carries `anomaly: 'usage_above_reservation'` and the cost the provider's usage implied.
 */
export async function settleCall(
  deps: { sql: Sql; audit: AuditService; budgets: BudgetService; log?: Logger },
  call: CallRecord,
): Promise<void> {
  const usage = call.usage ?? ZERO;
  const { charged, excess, alerts } = await deps.sql.begin(async (tx) => {
    const settlement = await deps.budgets.settle(tx, call.reservation, call.cost);
    const { charged, excess } = settlement;
    await tx`
      insert into usage_events (user_id, session_id, harness_session_id, token_id, model, provider_id, format, stream,
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_micros, reserved_micros, usage_reported, latency_ms, outcome, status)
      values (${call.userId}, ${call.sessionId}, ${call.harnessSessionId}, ${call.tokenId}, ${call.model}, ${call.providerId}, ${call.format}, ${call.stream},
        ${usage.input}, ${usage.output}, ${usage.cacheRead}, ${usage.cacheWrite}, ${charged}, ${call.reservation.amount}, ${call.usage !== undefined},
        ${Math.round(call.latencyMs)}, ${call.outcome}, ${call.status})`;
    await deps.audit.recordMany(tx, call.actor, [
      {
        action: 'gateway.call',
        target: call.sessionId ? { type: 'session', id: call.sessionId } : { type: 'model', id: call.model },
        outcome: call.outcome === 'ok' ? 'ok' : 'error',
        payload: {
          model: call.model,
          providerId: call.providerId,
          format: call.format,
          stream: call.stream,
          harnessSessionId: call.harnessSessionId,
          tokens: usage,
          usageReported: call.usage !== undefined,
          costMicros: charged,
          reservedMicros: call.reservation.amount,
          ...(excess > 0n ? { anomaly: 'usage_above_reservation', reportedCostMicros: call.cost } : {}),
          latencyMs: Math.round(call.latencyMs),
          status: call.status,
          outcome: call.outcome,
        },
      },
      ...settlement.alerts.map((alert) => ({
        action: 'budget.alert' as const,
        target: { type: 'budget', id: alert.budgetId },
        payload: { scope: alert.scope, period: alert.period, spentMicros: alert.spentMicros, limitMicros: alert.limitMicros },
      })),
    ]);
    return settlement;
  });
  if (excess > 0n) {
    deps.log?.warn(
      {
        model: call.model,
        providerId: call.providerId,
        userId: call.userId,
        reservedMicros: call.reservation.amount,
        costMicros: call.cost,
      },
      'a model call cost more than its reservation: charged the reservation, the excess is audited',
    );
  }
  if (call.reservation.budgets.length > 0 && (charged > 0n || call.reservation.amount > 0n)) {
    deps.budgets.changed({ budgetIds: call.reservation.budgets.map((budget) => budget.id), alerts });
  }
}
