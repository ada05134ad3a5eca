import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Agent, request as upstreamRequest } from 'undici';
import { rpcError } from './jsonrpc.js';

/** Headers of the MCP transport that pass through in each direction. */
const REQUEST_HEADERS = ['accept', 'content-type', 'mcp-session-id', 'mcp-protocol-version', 'last-event-id'];
const RESPONSE_HEADERS = ['content-type', 'mcp-session-id', 'cache-control'];

/**
 * Forwards one MCP streamable-HTTP request (POST, the GET event stream, or DELETE) to an agent's
 * remote server, adding the headers its definition names (secrets resolved from the vault here,
 * so they never reach the workspace), and streams the answer back as it comes.
 */
export async function forwardMcp(input: {
  request: FastifyRequest;
  reply: FastifyReply;
  url: string;
  headers: Record<string, string>;
  timeoutMs: number | undefined;
  dispatcher: Agent;
}): Promise<FastifyReply> {
  const { request, reply } = input;
  const headers: Record<string, string> = {};
  for (const name of REQUEST_HEADERS) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  Object.assign(headers, input.headers);
  const abort = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) abort.abort();
  });
  const body = Buffer.isBuffer(request.body) ? request.body : null;
  let upstream: Awaited<ReturnType<typeof upstreamRequest>>;
  try {
    upstream = await upstreamRequest(input.url, {
      method: request.method as 'GET' | 'POST' | 'DELETE',
      headers,
      body: request.method === 'POST' ? body : null,
      dispatcher: input.dispatcher,
      signal: abort.signal,
      ...(input.timeoutMs ? { headersTimeout: input.timeoutMs } : {}),
    });
  } catch (error) {
    request.log.warn({ err: error, url: input.url }, 'agent MCP server unreachable');
    return reply.status(502).send(rpcError(null, -32000, 'The MCP server could not be reached.'));
  }
  reply.status(upstream.statusCode);
  for (const name of RESPONSE_HEADERS) {
    const value = upstream.headers[name];
    if (typeof value === 'string') reply.header(name, value);
  }
  return reply.send(upstream.body);
}
