import path from 'node:path';
import type { ApprovalPolicy } from '@switchboard/protocol';

export type Decision = 'allow' | 'ask' | 'deny';

/**
 * The built-in approval policy: reading and editing inside the workspace run freely; shell
 * commands and web access ask a person; leaving the workspace is refused.
 */
export const DEFAULT_POLICY: ApprovalPolicy = [
  { tool: '*', pattern: '*', action: 'allow' },
  { tool: 'bash', pattern: '*', action: 'ask' },
  { tool: 'webfetch', pattern: '*', action: 'ask' },
  { tool: 'websearch', pattern: '*', action: 'ask' },
  { tool: 'doom_loop', pattern: '*', action: 'ask' },
  { tool: 'external_directory', pattern: '*', action: 'deny' },
];

/** Tools whose patterns are file paths; they must stay inside the workspace whatever the policy says. */
const PATH_TOOLS = new Set(['read', 'edit', 'write', 'list', 'glob', 'grep', 'apply_patch', 'patch', 'multiedit', 'lsp']);
const RANK: Record<Decision, number> = { allow: 0, ask: 1, deny: 2 };

const globCache = new Map<string, RegExp>();
export function globToRegExp(glob: string): RegExp {
  let regex = globCache.get(glob);
  if (!regex) {
    const body = glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '[\\s\\S]*')
      .replace(/\?/g, '[\\s\\S]');
    regex = new RegExp(`^${body}$`);
    if (globCache.size > 5000) globCache.clear();
    globCache.set(glob, regex);
  }
  return regex;
}

/** The last rule matching the tool and the pattern decides; with several patterns the strictest decision wins. */
export function decide(policy: ApprovalPolicy, tool: string, patterns: string[]): Decision {
  const subjects = patterns.length > 0 ? patterns : ['*'];
  let decision: Decision = 'allow';
  for (const subject of subjects) {
    let matched: Decision = 'ask';
    for (const rule of policy) {
      if (globToRegExp(rule.tool).test(tool) && globToRegExp(rule.pattern ?? '*').test(subject)) matched = rule.action;
    }
    if (RANK[matched] > RANK[decision]) decision = matched;
  }
  return decision;
}

/** True when a file tool names a path outside the workspace (absolute elsewhere, or climbing out with `..`). */
export function leavesWorkspace(workspace: string, tool: string, patterns: string[]): boolean {
  if (tool === 'external_directory') return true;
  if (!PATH_TOOLS.has(tool)) return false;
  return patterns.some((pattern) => {
    if (pattern === '*' || pattern === '') return false;
    const resolved = path.resolve(workspace, pattern.replace(/\*.*$/, ''));
    return resolved !== workspace && !resolved.startsWith(`${workspace}${path.sep}`);
  });
}

/**
 * What OpenCode itself is told: tools the policy always denies are denied there too (so the model
 * is not offered them); everything else asks, so the control plane sees and decides each use.
 */
export function harnessRules(policy: ApprovalPolicy): { permission: string; pattern: string; action: Decision }[] {
  const rules: { permission: string; pattern: string; action: Decision }[] = [{ permission: '*', pattern: '*', action: 'ask' }];
  policy.forEach((rule, index) => {
    if (rule.action !== 'deny' || (rule.pattern ?? '*') !== '*' || /[*?]/.test(rule.tool)) return;
    const overridden = policy.slice(index + 1).some((later) => later.action !== 'deny' && globToRegExp(later.tool).test(rule.tool));
    if (!overridden) rules.push({ permission: rule.tool, pattern: '*', action: 'deny' });
  });
  return rules;
}
