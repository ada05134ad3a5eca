import type { Budget, BudgetAlertNotification } from '@switchboard/protocol';
import type { FastifyInstance } from 'fastify';

/** Coalesces bursts of settles (a streaming turn settles every few hundred ms) into one update. */
const UPDATE_DELAY_MS = 250;

type Notify = ((method: 'budget/updated', params: { budgets: Budget[] }) => void) &
  ((method: 'budget/alert', params: BudgetAlertNotification) => void);

/**
 * Keeps one connection's view of its user's budgets live: after any settle against one of the
 * user's budgets (their own calls, or a teammate's on a shared team budget) the client gets the
 * fresh figures, and a crossed soft-alert threshold arrives at once as `budget/alert`.
 */
export function followBudgets(app: FastifyInstance, userId: string, notify: Notify) {
  let known = new Set<string>();
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  async function current(): Promise<{ budgets: Budget[] }> {
    const budgets = await app.budgets.applicableTo(userId);
    known = new Set(budgets.map((budget) => budget.id));
    return { budgets };
  }

  function schedule() {
    if (timer || closed) return;
    timer = setTimeout(() => {
      timer = null;
      current()
        .then((update) => {
          if (!closed) notify('budget/updated', update);
        })
        .catch((error: unknown) => app.log.warn({ err: error }, 'could not read budgets for a live update'));
    }, UPDATE_DELAY_MS);
  }

  const off = app.budgets.onChange((change) => {
    for (const alert of change.alerts) {
      if (!known.has(alert.budgetId)) continue;
      notify('budget/alert', {
        budgetId: alert.budgetId,
        scope: alert.scope,
        period: alert.period,
        spentMicros: Number(alert.spentMicros),
        limitMicros: Number(alert.limitMicros),
      });
    }
    const owner = change.owner;
    const concernsUser = owner !== undefined && ('teamId' in owner || owner.userId === userId);
    if (concernsUser || change.budgetIds.some((id) => known.has(id))) schedule();
  });
  current().catch((error: unknown) => app.log.warn({ err: error }, 'could not read budgets for a new connection'));

  return {
    current,
    close() {
      closed = true;
      off();
      if (timer) clearTimeout(timer);
    },
  };
}
