import { WorkspacePath, workspacePathProblem } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';

describe('WorkspacePath', () => {
  it('parses relative forward-slash paths', () => {
    for (const value of ['a', 'src/app.ts', '.github/ci.yml', 'a..b/..c']) expect(WorkspacePath.parse(value)).toBe(value);
  });

  it('refuses absolute, backslashed, empty-segment and dot-segment paths with one reason each', () => {
    const reasons = {
      '/etc/passwd': 'Must be a relative path with forward slashes',
      'a\\b': 'Must be a relative path with forward slashes',
      'a\u0000b': 'Must be a relative path with forward slashes',
      '../x': 'Must not contain empty, . or .. segments',
      'a/./b': 'Must not contain empty, . or .. segments',
      'a//b': 'Must not contain empty, . or .. segments',
      'a/': 'Must not contain empty, . or .. segments',
    };
    for (const [value, reason] of Object.entries(reasons)) {
      expect(workspacePathProblem(value), value).toBe(reason);
      const parsed = WorkspacePath.safeParse(value);
      expect(parsed.success, value).toBe(false);
      expect(parsed.error?.issues.map((issue) => issue.message)).toEqual([reason]);
    }
    expect(WorkspacePath.safeParse('').success).toBe(false);
    expect(WorkspacePath.safeParse('x'.repeat(1025)).success).toBe(false);
  });
});
