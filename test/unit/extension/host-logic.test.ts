import type { Budget, ChangedFile } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import { budgetLine, formatDollars, statusView, tightestBudget } from '../../../extension/src/budget-format.js';
import { nextDelay } from '../../../extension/src/client/backoff.js';
import { classify } from '../../../extension/src/edits/classify.js';
import { promptWithContext } from '../../../extension/src/prompt-context.js';

const budget = (overrides: Partial<Budget>): Budget => ({
  id: '3f1c2a4e-8b7d-4c1a-9e2f-0a1b2c3d4e5f',
  scope: 'user',
  userId: null,
  teamId: null,
  period: 'month',
  limitMicros: 50_000_000,
  softAlertPct: 80,
  periodStart: '2026-11-01T00:00:00.000Z',
  periodEnd: '2026-12-01T00:00:00.000Z',
  spentMicros: 12_400_000,
  reservedMicros: 0,
  ...overrides,
});

describe('budget in the status bar', () => {
  it('formats micro-dollars as dollars and cents, rounding down', () => {
    expect(formatDollars(12_400_000)).toBe('$12.40');
    expect(formatDollars(9_999)).toBe('$0.00');
    expect(formatDollars(1_234_567_890_000)).toBe('$1,234,567.89');
    expect(budgetLine(budget({}))).toBe('$12.40 / $50.00 this month');
    expect(budgetLine(budget({ period: 'total' }))).toBe('$12.40 / $50.00 in total');
  });

  it('shows the budget closest to its limit, coloured past the alert threshold and at the limit', () => {
    const day = budget({ period: 'day', limitMicros: 1_000_000, spentMicros: 900_000 });
    expect(tightestBudget([budget({}), day])).toBe(day);
    expect(statusView('connected', [budget({}), day])).toMatchObject({ text: '$(pulse) $0.90 / $1.00 this day', level: 'warning' });
    expect(statusView('connected', [budget({ spentMicros: 49_000_000, reservedMicros: 1_000_000 })]).level).toBe('error');
    expect(statusView('connected', [budget({})])).toMatchObject({ text: '$(pulse) $12.40 / $50.00 this month', level: 'normal' });
    expect(statusView('connected', []).text).toBe('$(pulse) Switchboard');
    expect(statusView('reconnecting', [budget({})]).text).toContain('offline');
    expect(statusView('signed-out', []).text).toContain('Sign In');
  });

  it('keeps the budget that refused a call in view, until its limit is raised or its period rolls over', () => {
    const month = budget({});
    const day = budget({
      id: '9f1c2a4e-8b7d-4c1a-9e2f-0a1b2c3d4e5f',
      period: 'day',
      limitMicros: 30_000,
      spentMicros: 0,
      periodStart: '2026-11-24T00:00:00.000Z',
    });
    const refused = { budgetId: day.id, limitMicros: 30_000, at: '2026-11-24T10:00:00.000Z' };
    expect(statusView('connected', [month, day]).text).toBe('$(pulse) $12.40 / $50.00 this month');
    const blocked = statusView('connected', [month, day], refused);
    expect(blocked).toMatchObject({ text: '$(pulse) $0.00 / $0.03 this day', level: 'error' });
    expect(blocked.tooltip).toContain('refused the last model call');
    expect(statusView('connected', [month, { ...day, limitMicros: 1_000_000 }], refused).text).toBe('$(pulse) $12.40 / $50.00 this month');
    expect(statusView('connected', [month, { ...day, periodStart: '2026-11-25T00:00:00.000Z' }], refused).level).toBe('normal');
  });
});

describe('applying agent changes safely', () => {
  const change = (status: ChangedFile['status']): ChangedFile => ({
    path: 'a.ts',
    status,
    baseSha256: status === 'added' ? null : 'base',
    sha256: status === 'deleted' ? null : 'agent',
    bytes: 1,
  });

  it('applies over an untouched local file and flags one changed since the upload', () => {
    expect(classify(change('modified'), 'base')).toMatchObject({ conflict: false, applied: false });
    expect(classify(change('modified'), 'agent')).toMatchObject({ conflict: false, applied: true });
    expect(classify(change('modified'), 'mine')).toMatchObject({ conflict: true, applied: false });
    expect(classify(change('modified'), null)).toMatchObject({ conflict: true });
    expect(classify(change('added'), null)).toMatchObject({ conflict: false, applied: false });
    expect(classify(change('added'), 'mine')).toMatchObject({ conflict: true });
    expect(classify(change('deleted'), 'base')).toMatchObject({ conflict: false, applied: false });
    expect(classify(change('deleted'), null)).toMatchObject({ applied: true });
    expect(classify(change('deleted'), 'mine')).toMatchObject({ conflict: true });
  });
});

describe('prompt context and reconnect backoff', () => {
  it('fences the selection with its file and lines, choosing a fence the code does not contain', () => {
    expect(promptWithContext('Explain', { path: 'src/a.ts', languageId: 'typescript', text: 'let a = 1;', startLine: 3, endLine: 3 })).toBe(
      'Explain\n\nsrc/a.ts, lines 3–3:\n```typescript\nlet a = 1;\n```',
    );
    expect(promptWithContext('Fix', { path: 'README.md', languageId: 'markdown', text: '```js\nx\n```' })).toContain('~~~~markdown');
  });

  it('doubles the reconnect delay up to 30 s, with jitter', () => {
    expect(nextDelay(0, () => 0.5)).toBe(500);
    expect(nextDelay(3, () => 0.5)).toBe(4000);
    expect(nextDelay(50, () => 0.5)).toBe(30_000);
    expect(nextDelay(3, () => 0)).toBe(3200);
    expect(nextDelay(3, () => 1)).toBe(4800);
  });
});
