import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, decide, harnessRules, leavesWorkspace } from '../../../control-plane/src/sessions/policy.js';

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
