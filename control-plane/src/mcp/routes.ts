import { McpServerName } from '@switchboard/protocol';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Agent } from 'undici';
import { guardedLookup } from '../net/outbound.js';
import { JsonRpcMessage, rpcError } from './jsonrpc.js';
import { answerMemory } from './memory-server.js';
import { forwardMcp } from './proxy.js';
import { type McpSession, sessionFromKey } from './session-auth.js';
import { gateToolCalls } from './tool-gate.js';

/**
 * MCP endpoints for sessions, authenticated by the session key: `/mcp/memory` (the agent's notes,
 * served here) and `/mcp/agents/:server` (a proxy to an agent's remote MCP server that adds its
 * secret headers). Bodies are read raw: the proxy forwards them byte for byte.
 */
export const mcpRoutes: FastifyPluginAsync = async (app) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  const failures = app.authFailures;
  const dispatcher = new Agent({
    connect: { lookup: guardedLookup(app.config.outbound) },
    headersTimeout: 60_000,
    bodyTimeout: 0,
    connections: 64,
  });
  app.addHook('onClose', async () => dispatcher.close());

  async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<McpSession | undefined> {
    const ip = request.ip;
    const found = await sessionFromKey(app, request);
    if (typeof found !== 'string') return found;
    if (failures.fail({ address: ip, credential: /^Bearer\s+(\S+)/i.exec(request.headers.authorization ?? '')?.[1] }).limited) {
      reply.status(429).send(rpcError(null, -32029, 'Too many failed attempts.'));
      return undefined;
    }
    await app.audit.recordAlone(
      { type: 'anonymous', ip },
      { action: 'auth.denied', outcome: 'denied', payload: { reason: found, url: request.url.split('?')[0] } },
    );
    reply.status(401).send(rpcError(null, -32001, 'Send the session key as "Authorization: Bearer sbk_…".'));
    return undefined;
  }

  const notAllowed = async (_request: FastifyRequest, reply: FastifyReply) =>
    reply
      .status(405)
      .header('allow', 'POST')
      .send(rpcError(null, -32600, 'This MCP server answers POST only.'));
  app.get('/mcp/memory', { schema: { hide: true } }, notAllowed);
  app.delete('/mcp/memory', { schema: { hide: true } }, notAllowed);

  app.post('/mcp/memory', { schema: { hide: true } }, async (request, reply) => {
    const session = await authenticate(request, reply);
    if (!session) return reply;
    if (!session.agentId || !session.spec?.memory)
      return reply.status(403).send(rpcError(null, -32003, 'This session’s agent has no memory.'));
    let body: unknown;
    try {
      body = JSON.parse(Buffer.isBuffer(request.body) ? request.body.toString('utf8') : '');
    } catch {
      return reply.status(400).send(rpcError(null, -32700, 'Parse error'));
    }
    const answers: unknown[] = [];
    for (const raw of Array.isArray(body) ? body : [body]) {
      const message = JsonRpcMessage.safeParse(raw);
      if (!message.success) answers.push(rpcError(null, -32600, 'Invalid Request'));
      // Notifications and responses are accepted without an answer.
      else if (message.data.method !== undefined && message.data.id !== undefined)
        answers.push(await answerMemory(app.memory, session, message.data));
    }
    if (answers.length === 0) return reply.status(202).send();
    return reply
      .status(200)
      .header('content-type', 'application/json')
      .send(Array.isArray(body) ? answers : answers[0]);
  });

  app.route({
    method: ['GET', 'POST', 'DELETE'],
    url: '/mcp/agents/:server',
    schema: { hide: true },
    handler: async (request, reply) => {
      const session = await authenticate(request, reply);
      if (!session) return reply;
      const name = McpServerName.safeParse((request.params as { server?: unknown }).server);
      const server = name.success ? session.spec?.mcpServers[name.data] : undefined;
      if (server?.type !== 'remote')
        return reply.status(404).send(rpcError(null, -32004, 'This session’s agent has no remote MCP server of that name.'));
      if (request.method === 'POST') {
        const gate = await gateToolCalls(app, session, name.data as string, Buffer.isBuffer(request.body) ? request.body : null);
        if (!gate.ok) return reply.status(gate.status).send(gate.body);
      }
      const secrets = await app.secrets.open(
        Object.values(server.headers).flatMap((value) => (typeof value === 'string' ? [] : [value.secret])),
      );
      const headers = Object.fromEntries(
        Object.entries(server.headers).map(([header, value]) => [
          header,
          typeof value === 'string' ? value : `${value.prefix ?? ''}${secrets.get(value.secret) ?? ''}`,
        ]),
      );
      return forwardMcp({ request, reply, url: server.url, headers, timeoutMs: server.timeoutMs, dispatcher });
    },
  });
};
