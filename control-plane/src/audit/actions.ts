/**
 * Every audited action, as `domain.verb`. Adding a feature that changes state means adding its
 * action here, so the set of things the trail can say is visible in one place.
 */
export const AUDIT_ACTIONS = [
  'admin.bootstrap',
  'auth.denied',
  'auth.rate_limited',
  'access.denied',
  'user.create',
  'user.update',
  'token.create',
  'token.revoke',
  'team.create',
  'team.member.add',
  'team.member.remove',
  'audit.retention',
  'audit.export',
  'provider.create',
  'provider.update',
  'provider.delete',
  'vault.import',
  'model.create',
  'model.update',
  'model.delete',
  'budget.set',
  'budget.delete',
  'budget.alert',
  'gateway.call',
  'gateway.refused',
  'session_key.create',
  'session_key.revoke',
  'session.create',
  'session.prompt',
  'session.abort',
  'session.archive',
  'tool.approval',
  'question.answer',
  'upload.create',
  'team.policy',
  'schedule.create',
  'schedule.update',
  'schedule.delete',
  'schedule.trigger',
  'schedule.run',
  'agent.create',
  'agent.update',
  'agent.archive',
  'secret.set',
  'secret.delete',
  'secret.use',
  'memory.write',
  'memory.delete',
  'mcp.call',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export type AuditOutcome = 'ok' | 'denied' | 'error';

export interface Actor {
  type: 'user' | 'system' | 'anonymous';
  userId?: string | undefined;
  tokenId?: string | undefined;
  ip?: string | undefined;
}

export const SYSTEM: Actor = { type: 'system' };

export interface AuditEntry {
  action: AuditAction;
  target?: { type: string; id: string } | undefined;
  outcome?: AuditOutcome;
  payload?: Record<string, unknown>;
}
