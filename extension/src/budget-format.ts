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

/** The status-bar item: connection state first, then the tightest budget ("$12.40 / $50.00 this month"). */
export function statusView(state: 'signed-out' | 'connecting' | 'connected' | 'reconnecting', budgets: readonly Budget[]): StatusView {
  if (state === 'signed-out')
    return { text: '$(account) Switchboard: Sign In', tooltip: 'Sign in to your team’s Switchboard', level: 'normal' };
  if (state === 'connecting') return { text: '$(loading~spin) Switchboard', tooltip: 'Connecting to Switchboard…', level: 'normal' };
  if (state === 'reconnecting')
    return {
      text: '$(debug-disconnect) Switchboard: offline',
      tooltip: 'Connection lost; reconnecting. Nothing is lost.',
      level: 'warning',
    };
  const budget = tightestBudget(budgets);
  if (!budget) return { text: '$(pulse) Switchboard', tooltip: 'Connected. No budget limits apply to you.', level: 'normal' };
  const spent = budget.spentMicros + budget.reservedMicros;
  const level = spent >= budget.limitMicros ? 'error' : spent * 100 >= budget.limitMicros * budget.softAlertPct ? 'warning' : 'normal';
  const tooltip = budgets.map((item) => `${item.scope === 'team' ? 'Team' : 'Your'} ${item.period} budget: ${budgetLine(item)}`).join('\n');
  return { text: `$(pulse) ${budgetLine(budget)}`, tooltip, level };
}
