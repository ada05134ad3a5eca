import type { Queryable } from '../db/client.js';
import { AppError } from '../errors.js';
import { formatMicros } from '../gateway/pricing.js';

export interface SessionCap {
  limitMicros: bigint;
  spentMicros: bigint;
}

/**
 * What the harness is told when a session reaches its agent's spending cap: plain and digit-free,
 * like every refusal the gateway sends (OpenCode retries on certain numbers and words).
 */
export const SESSION_CAP_MESSAGE =
  'Session budget reached for this agent. Start a new session, or ask an admin to raise the agent’s limit.';

/** The session's cap and what it spent so far; undefined when its agent sets no cap. */
export async function sessionCap(sql: Queryable, sessionId: string): Promise<SessionCap | undefined> {
  const [row] = await sql<{ cap: bigint; spent: bigint }[]>`
    select s.budget_cap_micros as cap,
           (select coalesce(sum(u.cost_micros), 0)::bigint from usage_events u where u.session_id = s.id) as spent
    from sessions s where s.id = ${sessionId} and s.budget_cap_micros is not null`;
  return row && { limitMicros: row.cap, spentMicros: row.spent };
}

export const capReached = (cap: SessionCap | undefined): cap is SessionCap => cap !== undefined && cap.spentMicros >= cap.limitMicros;

/** The wording for people: "Session budget reached: $0.05 of $0.05 spent in this session (agent limit) …". */
export function describeSessionCap(cap: { limitMicros: bigint | number; spentMicros: bigint | number }): string {
  return `Session budget reached: ${formatMicros(BigInt(cap.spentMicros))} of ${formatMicros(BigInt(cap.limitMicros))} spent in this session (agent limit). Start a new session, or ask an admin to raise the agent’s limit.`;
}

/** Refuses a prompt up front once the session spent its cap. */
export async function checkSessionCap(sql: Queryable, sessionId: string): Promise<void> {
  const cap = await sessionCap(sql, sessionId);
  if (!capReached(cap)) return;
  throw new AppError('BUDGET_EXCEEDED', describeSessionCap(cap), {
    sessionBudget: { limitMicros: Number(cap.limitMicros), spentMicros: Number(cap.spentMicros) },
  });
}
