import { describe, expect, it } from 'vitest';
import { approvalReason, neededApproval, scheduledRunPolicy } from '../../../control-plane/src/schedules/run-policy.js';
import { DEFAULT_POLICY, decide, evaluate, harnessRules } from '../../../control-plane/src/sessions/policy.js';

describe('the policy of a scheduled run', () => {
  it('turns every ask of the default policy into a deny and keeps what runs freely', () => {
    const policy = scheduledRunPolicy(DEFAULT_POLICY, null);
    expect(policy.some((rule) => rule.action === 'ask')).toBe(false);
    expect(decide(policy, 'bash', ['npm test'])).toBe('deny');
    expect(decide(policy, 'webfetch', ['https://example.com'])).toBe('deny');
    expect(decide(policy, 'edit', ['src/a.ts'])).toBe('allow');
    expect(decide(policy, 'read', ['src/a.ts'])).toBe('allow');
    expect(decide(policy, 'external_directory', ['/etc'])).toBe('deny');
  });

  it('denies what no rule names instead of asking', () => {
    expect(decide([], 'anything', ['x'])).toBe('ask');
    expect(decide(scheduledRunPolicy([], null), 'anything', ['x'])).toBe('deny');
    expect(decide(scheduledRunPolicy([], null), 'anything', [])).toBe('deny');
  });

  it('lets the schedule narrow the team policy but never open what it asks about; an admin’s allow does', () => {
    const team = [
      { tool: '*', pattern: '*', action: 'allow' as const },
      { tool: 'bash', pattern: '*', action: 'ask' as const },
    ];
    const policy = scheduledRunPolicy(team, [{ tool: 'bash', pattern: 'npm test*', action: 'allow' }]);
    expect(evaluate(team, policy, 'bash', ['npm test -- --run']).action).toBe('deny');
    expect(evaluate(team, policy, 'bash', ['rm -rf build']).action).toBe('deny');
    const narrowed = scheduledRunPolicy(team, [{ tool: 'edit', pattern: '*', action: 'deny' }]);
    expect(evaluate(team, narrowed, 'edit', ['a.ts']).action).toBe('deny');
    const admins = [...team, { tool: 'bash', pattern: 'npm test*', action: 'allow' as const }];
    expect(evaluate(admins, scheduledRunPolicy(admins, null), 'bash', ['npm test -- --run']).action).toBe('allow');
    expect(evaluate(admins, scheduledRunPolicy(admins, null), 'bash', ['rm -rf build']).action).toBe('deny');
  });

  it('keeps a tool that needs approval visible to the agent, so its use is refused with a reason', () => {
    const rules = harnessRules(scheduledRunPolicy(DEFAULT_POLICY, null));
    expect(rules.map((rule) => rule.permission)).not.toContain('bash');
    expect(rules).toContainEqual({ permission: 'external_directory', pattern: '*', action: 'deny' });
    // An explicit deny of a whole tool still hides it, as in any session.
    const denied = harnessRules(scheduledRunPolicy(DEFAULT_POLICY, [{ tool: 'webfetch', pattern: '*', action: 'deny' }]));
    expect(denied).toContainEqual({ permission: 'webfetch', pattern: '*', action: 'deny' });
  });

  it('tells a refusal for lack of approval from a deliberate deny', () => {
    expect(neededApproval(DEFAULT_POLICY, null, 'bash')).toBe(true);
    expect(neededApproval(DEFAULT_POLICY, null, 'external_directory')).toBe(false);
    expect(neededApproval([], null, 'mystery_tool')).toBe(true);
    expect(
      neededApproval([{ tool: '*', pattern: '*', action: 'allow' }], [{ tool: 'bash', pattern: 'rm *', action: 'deny' }], 'bash'),
    ).toBe(false);
    expect(approvalReason('bash')).toBe(
      "bash needs an approval; scheduled runs cannot ask. An admin can allow it in the agent's or team's policy.",
    );
  });
});
