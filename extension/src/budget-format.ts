import type { Budget } from '@switchboard/protocol';

/** Whole micro-dollars to "$12.40" (cents, rounded down so a display never promises money that is gone). */
export function formatDollars(micros: number): string {
  const cents = Math.floor(micros / 10_000);
  return `$${(cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

export function periodLabel(period: Budget['period']): string {
  return period === 'total' ? 'in total' : `this ${period}`;
}

/** The budget closest to its limit: the one a user runs into first. */
export function tightestBudget(budgets: readonly Budget[]): Budget | undefined {
  const used = (budget: Budget) => (budget.limitMicros === 0 ? 1 : (budget.spentMicros + budget.reservedMicros) / budget.limitMicros);
  return [...budgets].sort((a, b) => used(b) - used(a))[0];
}

export function budgetLine(budget: Budget): string {
  return `${formatDollars(budget.spentMicros)} / ${formatDollars(budget.limitMicros)} ${periodLabel(budget.period)}`;
}

export interface StatusView {
  text: string;
  tooltip: string;
  /** Past the soft-alert threshold (warning) or at the limit (error). */
  level: 'normal' | 'warning' | 'error';
}

/** The budget that last refused a call, as it was then; it stays in view until its limit or period changes. */
export interface Refused {
  budgetId: string;
  limitMicros: number;
  /** When it refused (ISO time); a refusal from an earlier period no longer counts. */
  at: string;
}

export function stillRefusing(refused: Refused | undefined, budgets: readonly Budget[]): Budget | undefined {
  if (!refused) return undefined;
  const budget = budgets.find((item) => item.id === refused.budgetId);
  if (!budget || budget.limitMicros !== refused.limitMicros) return undefined;
  if (Date.parse(refused.at) < Date.parse(budget.periodStart)) return undefined;
  return budget;
}

/**
 * The status-bar item: connection state first, then the budget that refused the last call (until
 * an admin raises it or its period rolls over), else the tightest one ("$12.40 / $50.00 this month").
 */
export function statusView(
  state: 'signed-out' | 'connecting' | 'connected' | 'reconnecting',
  budgets: readonly Budget[],
  refused?: Refused,
): StatusView {
  if (state === 'signed-out')
    return { text: '$(account) Switchboard: Sign In', tooltip: 'Sign in to your team’s Switchboard', level: 'normal' };
  if (state === 'connecting') return { text: '$(loading~spin) Switchboard', tooltip: 'Connecting to Switchboard…', level: 'normal' };
  if (state === 'reconnecting')
    return {
      text: '$(debug-disconnect) Switchboard: offline',
      tooltip: 'Connection lost; reconnecting. Nothing is lost.',
      level: 'warning',
    };
  const blocking = stillRefusing(refused, budgets);
  const budget = blocking ?? tightestBudget(budgets);
  if (!budget) return { text: '$(pulse) Switchboard', tooltip: 'Connected. No budget limits apply to you.', level: 'normal' };
  const spent = budget.spentMicros + budget.reservedMicros;
  const level =
    blocking || spent >= budget.limitMicros ? 'error' : spent * 100 >= budget.limitMicros * budget.softAlertPct ? 'warning' : 'normal';
  const lines = budgets.map((item) => `${item.scope === 'team' ? 'Team' : 'Your'} ${item.period} budget: ${budgetLine(item)}`);
  if (blocking) lines.unshift(`This ${blocking.scope} budget refused the last model call. Ask an admin to raise it.`);
  const tooltip = lines.join('\n');
  return { text: `$(pulse) ${budgetLine(budget)}`, tooltip, level };
}
