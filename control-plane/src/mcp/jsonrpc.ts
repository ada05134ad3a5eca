import { z } from 'zod';

/** One JSON-RPC 2.0 message as MCP's streamable-HTTP transport posts it: a request, a notification or a response. */
export const JsonRpcMessage = z.looseObject({
  jsonrpc: z.literal('2.0'),
  id: z.union([z.string(), z.number()]).nullable().optional(),
  method: z.string().optional(),
  params: z.unknown().optional(),
});
export type JsonRpcMessage = z.infer<typeof JsonRpcMessage>;

export type JsonRpcId = string | number | null;

export const rpcResult = (id: JsonRpcId, result: unknown) => ({ jsonrpc: '2.0' as const, id, result });
export const rpcError = (id: JsonRpcId, code: number, message: string) => ({ jsonrpc: '2.0' as const, id, error: { code, message } });

/** MCP protocol revisions this server speaks; a client asking for another gets the newest. */
export const PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'];

export function negotiateVersion(params: unknown): string {
  const asked = (params as { protocolVersion?: unknown } | undefined)?.protocolVersion;
  return typeof asked === 'string' && PROTOCOL_VERSIONS.includes(asked) ? asked : (PROTOCOL_VERSIONS[0] as string);
}
