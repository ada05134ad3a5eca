import type { ApprovalPolicy, SchedulePolicy } from '@switchboard/protocol';
import { globMatch } from '../sessions/glob.js';

/**
 * A converted ask denies every use the way `*` would but is not literally `*`: a rule that denies
 * a whole tool is also given to OpenCode, which then hides the tool from the model. A tool that
 * needs a person must stay visible, so that its use is refused with a reason the owner can act on.
 */
const EVERY_USE = '?*';

/**
 * The user rules of a scheduled run's session. Nobody is there to answer, so every `ask` of the
 * ceiling (the agent's, else the team's, else the built-in policy) becomes a deny, with a deny
 * first so that a tool no rule names is refused instead of asked about. The schedule's own rules
 * can only narrow that, like any user's rules: its denies count, its allows cannot open what the
 * ceiling asks about (an admin allows such a tool in the agent's or team's policy).
 */
export function scheduledRunPolicy(base: ApprovalPolicy, own: SchedulePolicy | null): ApprovalPolicy {
  const converted = base.map((rule) => {
    if (rule.action !== 'ask') return { tool: rule.tool, pattern: rule.pattern, action: rule.action };
    const pattern = rule.pattern ?? '*';
    return { tool: rule.tool, pattern: pattern === '*' ? EVERY_USE : pattern, action: 'deny' as const };
  });
  const denies = (own ?? []).filter((rule) => rule.action === 'deny');
  return [{ tool: '*', pattern: '*', action: 'deny' }, ...converted, ...denies];
}

/**
 * Whether a refusal of `tool` under the converted policy came from an ask (a person would have
 * been asked in a normal session): some rule of the ceiling for the tool said ask, or none named it.
 */
export function neededApproval(base: ApprovalPolicy, own: SchedulePolicy | null, tool: string): boolean {
  if ((own ?? []).some((rule) => rule.action === 'deny' && rule.pattern === '*' && globMatch(rule.tool, tool))) return false;
  const matching = base.filter((rule) => globMatch(rule.tool, tool));
  return matching.length === 0 || matching.some((rule) => rule.action === 'ask');
}

export const approvalReason = (tool: string) =>
  `${tool} needs an approval; scheduled runs cannot ask. An admin can allow it in the agent's or team's policy.`;
