import path from 'node:path';
import type { ApprovalPolicy } from '@switchboard/protocol';
import { globMatch } from './glob.js';

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

/** The last rule of `policy` matching the tool and the subject. */
function lastMatch(policy: ApprovalPolicy, tool: string, subject: string): ApprovalPolicy[number] | undefined {
  let found: ApprovalPolicy[number] | undefined;
  for (const rule of policy) if (globMatch(rule.tool, tool) && globMatch(rule.pattern ?? '*', subject)) found = rule;
  return found;
}

const stricter = (a: Decision, b: Decision): Decision => (RANK[b] > RANK[a] ? b : a);

/** The last rule matching the tool and the pattern decides (ask when none does); with several patterns the strictest decision wins. */
export function decide(policy: ApprovalPolicy, tool: string, patterns: string[]): Decision {
  return evaluate(policy, null, tool, patterns).action;
}

export interface Verdict {
  action: Decision;
  /** Only an admin may allow this ask (a rule said `approver: admin`); the owner may still refuse it. */
  adminApproval: boolean;
}

/**
 * A tool use under a session's two policies. The ceiling is what admins set (the agent's policy,
 * else the team's, else the built-in one); the user's own rules can only make a decision stricter,
 * never looser: a rule of theirs that allows what the ceiling asks about or denies changes nothing.
 */
export function evaluate(ceiling: ApprovalPolicy, own: ApprovalPolicy | null, tool: string, patterns: string[]): Verdict {
  const subjects = patterns.length > 0 ? patterns : ['*'];
  let action: Decision = 'allow';
  let adminApproval = false;
  for (const subject of subjects) {
    const base = lastMatch(ceiling, tool, subject);
    const mine = own ? lastMatch(own, tool, subject) : undefined;
    const decided = stricter(base?.action ?? 'ask', mine?.action ?? 'allow');
    action = stricter(action, decided);
    if (decided === 'ask' && (base?.approver === 'admin' || mine?.approver === 'admin')) adminApproval = true;
  }
  return { action, adminApproval: action === 'ask' && adminApproval };
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
 * What OpenCode itself is told: tools the policies always deny are denied there too (so the model
 * is not offered them); everything else asks, so the control plane sees and decides each use. A
 * deny of the user's own rules holds whatever the ceiling says, so it counts on its own.
 */
export function harnessRules(
  ceiling: ApprovalPolicy,
  own: ApprovalPolicy | null = null,
): { permission: string; pattern: string; action: Decision }[] {
  const rules: { permission: string; pattern: string; action: Decision }[] = [{ permission: '*', pattern: '*', action: 'ask' }];
  for (const policy of own ? [ceiling, own] : [ceiling]) {
    policy.forEach((rule, index) => {
      if (rule.action !== 'deny' || (rule.pattern ?? '*') !== '*' || /[*?]/.test(rule.tool)) return;
      const overridden = policy.slice(index + 1).some((later) => later.action !== 'deny' && globMatch(later.tool, rule.tool));
      if (!overridden && !rules.some((known) => known.permission === rule.tool))
        rules.push({ permission: rule.tool, pattern: '*', action: 'deny' });
    });
  }
  return rules;
}
