import { describe, expect, it } from 'vitest';
import {
  describeAnswer,
  describePermissionReply,
  errorTitle,
  formatCost,
  formatTokens,
  formatUsage,
  summarizeToolInput,
} from '../../../extension/webview/format.js';

describe('chat formatting', () => {
  it('formats integer micro-dollars as dollars', () => {
    expect(formatCost(12_300)).toBe('$0.0123');
    expect(formatCost(0)).toBe('$0.0000');
    expect(formatCost(50)).toBe('<$0.0001');
    expect(formatCost(1_234_567)).toBe('$1.23');
  });

  it('formats token counts compactly', () => {
    expect(formatTokens(950)).toBe('950');
    expect(formatTokens(12_345)).toBe('12.3k');
    expect(formatTokens(2_000)).toBe('2k');
    expect(formatTokens(4_500_000)).toBe('4.5M');
    expect(formatUsage({ inputTokens: 1500, outputTokens: 20, costMicros: 12_300 })).toBe('1.5k in · 20 out · $0.0123');
  });

  it('summarizes tool input by its most telling field', () => {
    expect(summarizeToolInput({ command: 'npm   test\n--watch', description: 'Run tests' })).toBe('npm test --watch');
    expect(summarizeToolInput({ filePath: 'src/app.ts', oldString: 'a' })).toBe('src/app.ts');
    expect(summarizeToolInput({ questions: [{ header: 'Colour', question: 'Which colour?', options: [] }] })).toBe('Which colour?');
    expect(summarizeToolInput({ questions: [{ question: 'A?' }, { question: 'B?' }] })).toBe('A? (+1 more)');
    expect(summarizeToolInput({ todos: [1] })).toBe('{"todos":[1]}');
    expect(summarizeToolInput(undefined)).toBe('');
    expect(summarizeToolInput({ command: 'x'.repeat(200) })).toHaveLength(80);
  });

  it('says in words who decided and what', () => {
    expect(describePermissionReply('once', 'user')).toBe('Allowed once by the user');
    expect(describePermissionReply('always', 'policy')).toBe('Always allowed by the approval policy');
    expect(describePermissionReply('reject', 'timeout')).toBe('Rejected: no answer in time');
    expect(describePermissionReply('reject', 'system', 'session aborted')).toBe('Rejected by the system (session aborted)');
    expect(describeAnswer([['web', 'api'], ['yes']], 'user')).toBe('Answered: web, api / yes');
    expect(describeAnswer(null, 'user')).toBe('Declined');
    expect(describeAnswer(null, 'timeout')).toBe('No answer in time');
    expect(errorTitle('BUDGET_EXCEEDED')).toBe('Budget reached');
  });
});
