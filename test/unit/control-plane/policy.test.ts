import { ApprovalRule } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import { globMatch } from '../../../control-plane/src/sessions/glob.js';
import { DEFAULT_POLICY, decide, evaluate, harnessRules, leavesWorkspace } from '../../../control-plane/src/sessions/policy.js';

describe('approval policy', () => {
  it('lets the last matching rule decide, with globs over tool and pattern', () => {
    const policy = [
      { tool: '*', pattern: '*', action: 'allow' as const },
      { tool: 'bash', pattern: '*', action: 'ask' as const },
      { tool: 'bash', pattern: 'git status*', action: 'allow' as const },
      { tool: 'bash', pattern: 'rm *', action: 'deny' as const },
    ];
    expect(decide(policy, 'read', ['src/a.ts'])).toBe('allow');
    expect(decide(policy, 'bash', ['npm test'])).toBe('ask');
    expect(decide(policy, 'bash', ['git status --short'])).toBe('allow');
    expect(decide(policy, 'bash', ['rm -rf /'])).toBe('deny');
    expect(decide(policy, 'bash', ['git status', 'rm x'])).toBe('deny');
    expect(decide([], 'anything', [])).toBe('ask');
  });

  it('ships a default that runs reads and edits, asks for shell and web, and never leaves the workspace', () => {
    expect(decide(DEFAULT_POLICY, 'edit', ['src/a.ts'])).toBe('allow');
    expect(decide(DEFAULT_POLICY, 'bash', ['ls'])).toBe('ask');
    expect(decide(DEFAULT_POLICY, 'webfetch', ['https://example.com'])).toBe('ask');
    expect(decide(DEFAULT_POLICY, 'external_directory', ['/etc'])).toBe('deny');
  });

  it('catches file tools reaching outside the workspace', () => {
    expect(leavesWorkspace('/ws/s1', 'edit', ['src/a.ts'])).toBe(false);
    expect(leavesWorkspace('/ws/s1', 'read', ['/ws/s1/src/a.ts'])).toBe(false);
    expect(leavesWorkspace('/ws/s1', 'read', ['../s2/secret'])).toBe(true);
    expect(leavesWorkspace('/ws/s1', 'edit', ['/etc/passwd'])).toBe(true);
    expect(leavesWorkspace('/ws/s1', 'read', ['/ws/s10/x'])).toBe(true);
    expect(leavesWorkspace('/ws/s1', 'bash', ['cat /etc/passwd'])).toBe(false);
    expect(leavesWorkspace('/ws/s1', 'external_directory', ['*'])).toBe(true);
  });

  it('tells OpenCode to ask for everything but what is always denied', () => {
    expect(harnessRules(DEFAULT_POLICY)).toEqual([
      { permission: '*', pattern: '*', action: 'ask' },
      { permission: 'external_directory', pattern: '*', action: 'deny' },
    ]);
    const overridden = harnessRules([
      { tool: 'webfetch', pattern: '*', action: 'deny' },
      { tool: 'web*', pattern: '*', action: 'allow' },
    ]);
    expect(overridden).toEqual([{ permission: '*', pattern: '*', action: 'ask' }]);
  });
});

describe('glob matching', () => {
  const reference = (glob: string, text: string) =>
    new RegExp(
      `^${glob
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '[\\s\\S]*')
        .replace(/\?/g, '[\\s\\S]')}$`,
    ).test(text);

  it('agrees with the regular-expression reading on every small glob and text', () => {
    const alphabet = ['a', 'b', '*', '?'];
    const globs: string[] = [''];
    for (let length = 1; length <= 4; length += 1)
      for (const prefix of globs.filter((glob) => glob.length === length - 1)) for (const char of alphabet) globs.push(prefix + char);
    const texts = ['', 'a', 'b', 'ab', 'ba', 'aab', 'abab', 'bbbb', 'a\nb', '*?'];
    let compared = 0;
    for (const glob of globs)
      for (const text of texts) {
        expect(globMatch(glob, text), `${JSON.stringify(glob)} ~ ${JSON.stringify(text)}`).toBe(reference(glob, text));
        compared += 1;
      }
    expect(compared).toBeGreaterThan(3000);
  });

  it('answers a hostile rule at once instead of backtracking (the policy once froze the process for 46 s)', () => {
    const policy = [{ tool: 'bash', pattern: `${'*a'.repeat(16)}!`, action: 'deny' as const }];
    const command = 'a'.repeat(600);
    const started = performance.now();
    for (let round = 0; round < 100; round += 1) expect(decide(policy, 'bash', [command])).toBe('ask');
    // A backtracking matcher needs seconds for ONE such call; a hundred here take milliseconds.
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('refuses rules with more stars than the matcher is bounded for', () => {
    expect(ApprovalRule.safeParse({ tool: 'bash', pattern: '*a'.repeat(16), action: 'deny' }).success).toBe(true);
    const refused = ApprovalRule.safeParse({ tool: 'bash', pattern: '*a'.repeat(17), action: 'deny' });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.message).toMatch(/At most 16 "\*"/);
  });
});

describe('the ceiling admins set, and the user’s own rules', () => {
  const agentPolicy = [
    { tool: '*', pattern: '*', action: 'allow' as const },
    { tool: 'bash', pattern: '*', action: 'ask' as const, approver: 'admin' as const },
    { tool: 'webfetch', pattern: '*', action: 'deny' as const },
  ];

  it('lets the user’s rules make a decision stricter, never looser', () => {
    const loosen = [{ tool: '*', pattern: '*', action: 'allow' as const }];
    expect(evaluate(agentPolicy, loosen, 'bash', ['cat secret'])).toEqual({ action: 'ask', adminApproval: true });
    expect(evaluate(agentPolicy, loosen, 'webfetch', ['https://x.test']).action).toBe('deny');
    const tighten = [{ tool: 'edit', pattern: '*.lock', action: 'deny' as const }];
    expect(evaluate(agentPolicy, tighten, 'edit', ['package.lock']).action).toBe('deny');
    expect(evaluate(agentPolicy, tighten, 'edit', ['src/a.ts']).action).toBe('allow');
    expect(evaluate(agentPolicy, [{ tool: 'read', pattern: '*', action: 'ask' as const }], 'read', ['a']).action).toBe('ask');
  });

  it('marks an ask only an admin may allow, from either policy', () => {
    expect(evaluate(DEFAULT_POLICY, null, 'bash', ['ls'])).toEqual({ action: 'ask', adminApproval: false });
    const mine = [{ tool: 'bash', pattern: '*', action: 'ask' as const, approver: 'admin' as const }];
    expect(evaluate(DEFAULT_POLICY, mine, 'bash', ['ls'])).toEqual({ action: 'ask', adminApproval: true });
    expect(evaluate(agentPolicy, null, 'read', ['a'])).toEqual({ action: 'allow', adminApproval: false });
  });

  it('hides from the model the tools either policy denies outright', () => {
    const rules = harnessRules(DEFAULT_POLICY, [{ tool: 'webfetch', pattern: '*', action: 'deny' }]);
    expect(rules).toContainEqual({ permission: 'webfetch', pattern: '*', action: 'deny' });
    expect(rules.filter((rule) => rule.permission === 'external_directory')).toHaveLength(1);
  });
});
