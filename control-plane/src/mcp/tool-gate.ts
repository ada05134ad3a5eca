import type { FastifyInstance } from 'fastify';
import { evaluate } from '../sessions/policy.js';
import { ceilingPolicy } from '../sessions/session-policy.js';
import * as repo from '../sessions/session-repository.js';
import { type JsonRpcId, JsonRpcMessage, rpcError } from './jsonrpc.js';
import type { McpSession } from './session-auth.js';

export type GateResult = { ok: true } | { ok: false; status: number; body: unknown };

/** OpenCode names an MCP tool `<server>_<tool>`; the approval policy and the asks use that name. */
export const mcpToolName = (server: string, tool: string) => `${server}_${tool}`;

/**
 * Every `tools/call` that reaches an agent's MCP server through the proxy is held to the session's
 * approval policy and audited, whoever sends it: OpenCode after its own ask, or anything else that
 * holds the session key. A use the policy allows passes; one it asks about passes only on a
 * person's allow of that tool in this session (spent by the call); a denied one never passes.
 */
export async function gateToolCalls(app: FastifyInstance, session: McpSession, server: string, body: Buffer | null): Promise<GateResult> {
  let parsed: unknown;
  try {
    parsed = body && body.length > 0 ? JSON.parse(body.toString('utf8')) : null;
  } catch {
    return { ok: false, status: 400, body: rpcError(null, -32700, 'Parse error') };
  }
  const calls: { id: JsonRpcId; tool: string }[] = [];
  for (const raw of Array.isArray(parsed) ? parsed : parsed === null ? [] : [parsed]) {
    const message = JsonRpcMessage.safeParse(raw);
    if (!message.success || message.data.method !== 'tools/call') continue;
    const name = (message.data.params as { name?: unknown } | undefined)?.name;
    if (typeof name !== 'string' || name.length === 0 || name.length > 200)
      return { ok: false, status: 400, body: rpcError(message.data.id ?? null, -32602, 'tools/call needs params.name.') };
    calls.push({ id: message.data.id ?? null, tool: mcpToolName(server, name) });
  }
  if (calls.length === 0) return { ok: true };

  const row = await repo.getSession(app.sql, session.sessionId);
  if (!row || row.status === 'archived')
    return { ok: false, status: 403, body: rpcError(calls[0]?.id ?? null, -32003, 'This session has ended.') };
  const ceiling = await ceilingPolicy({ sql: app.sql, agents: app.agents }, row);
  for (const call of calls) {
    const { action } = evaluate(ceiling, row.policy, call.tool, ['*']);
    const passes = action === 'allow' || (action === 'ask' && (await repo.spendApproval(app.sql, row.id, call.tool)));
    const by = action === 'ask' ? 'approval' : 'policy';
    await app.audit.recordAlone(session.actor, {
      action: 'mcp.call',
      target: { type: 'session', id: row.id },
      outcome: passes ? 'ok' : 'denied',
      payload: { server, tool: call.tool, decision: passes ? 'allow' : action === 'ask' ? 'not_approved' : 'deny', by },
    });
    if (!passes) {
      const reason =
        action === 'deny'
          ? `The approval policy denies ${call.tool}.`
          : `${call.tool} needs a person's approval in this session, and none was given.`;
      return { ok: false, status: 403, body: rpcError(call.id, -32003, reason) };
    }
  }
  return { ok: true };
}
