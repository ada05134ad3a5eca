import type { ApprovalPolicy, SchedulePolicy } from '@switchboard/protocol';
import { globToRegExp } from '../sessions/policy.js';

/**
 * A converted ask denies every use the way `*` would but is not literally `*`: a rule that denies
 * a whole tool is also given to OpenCode, which then hides the tool from the model. A tool that
 * needs a person must stay visible, so that its use is refused with a reason the owner can act on.
 */
const EVERY_USE = '?*';

/**
 * The policy of a scheduled run: the team's (or the built-in) policy, then the schedule's own
 * rules (the last matching rule decides, so they win), with every `ask` turned into a deny, and a
 * deny first so that a tool no rule names is refused instead of asked about. Nobody is there to answer.
 */
export function scheduledRunPolicy(base: ApprovalPolicy, own: SchedulePolicy | null): ApprovalPolicy {
  const rules = [...base, ...(own ?? [])].map((rule) => {
    if (rule.action !== 'ask') return rule;
    const pattern = rule.pattern ?? '*';
    return { tool: rule.tool, pattern: pattern === '*' ? EVERY_USE : pattern, action: 'deny' as const };
  });
  return [{ tool: '*', pattern: '*', action: 'deny' }, ...rules];
}

/**
 * Whether a refusal of `tool` under the converted policy came from an ask (a person would have
 * been asked in a normal session): some rule for the tool said ask, or no rule named it.
 */
export function neededApproval(base: ApprovalPolicy, own: SchedulePolicy | null, tool: string): boolean {
  const matching = [...base, ...(own ?? [])].filter((rule) => globToRegExp(rule.tool).test(tool));
  return matching.length === 0 || matching.some((rule) => rule.action === 'ask');
}

export const approvalReason = (tool: string) =>
  `${tool} needs an approval; scheduled runs cannot ask. Allow or deny it in the schedule's policy.`;
