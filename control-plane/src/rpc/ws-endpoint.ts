import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer } from 'ws';
import type { AuthContext } from '../auth/auth-plugin.js';
import { createWindowCounter } from '../auth/rate-limiter.js';
import { verifyToken } from '../auth/verify-token.js';
import { serveConnection } from './connection.js';

const BEARER = /^Bearer\s+(\S+)\s*$/i;
const REVALIDATE_MS = 60_000;
const PING_MS = 30_000;

/**
 * `GET /rpc`: the WebSocket the VS Code extension speaks JSON-RPC over. The bearer token is checked
 * on the upgrade request itself, so an unauthenticated client never gets a single frame; the token
 * is checked again every minute, and a revoked one closes the socket.
 */
export function attachRpcEndpoint(app: FastifyInstance): () => Promise<void> {
  const { config } = app;
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.wsMaxMessageBytes, perMessageDeflate: false });
  const failures = createWindowCounter({ limit: config.authFailuresPerMinute });

  async function authenticate(request: IncomingMessage): Promise<(AuthContext & { token: string }) | string> {
    const header = request.headers.authorization;
    const token = header ? BEARER.exec(header)?.[1] : undefined;
    if (!token) return 'missing_token';
    const verified = await verifyToken(app.sql, token);
    return verified.ok ? { ...verified.auth, token } : verified.reason;
  }

  function refuse(socket: Duplex, status: number, code: string, message: string) {
    const body = JSON.stringify({ error: { code, message } });
    socket.end(
      `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Too Many Requests'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  }

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = request.url?.split('?')[0];
    if (url !== '/rpc') return socket.destroy();
    const ip = request.socket.remoteAddress ?? 'unknown';
    if (failures.exceeded(ip))
      return refuse(socket, 429, 'RATE_LIMITED', 'Too many failed sign-in attempts from this address. Wait a minute.');
    authenticate(request).then(
      async (auth) => {
        if (typeof auth === 'string') {
          failures.hit(ip);
          await app.audit.recordAlone(
            { type: 'anonymous', ip },
            { action: 'auth.denied', outcome: 'denied', payload: { reason: auth, url: '/rpc' } },
          );
          return refuse(socket, 401, 'UNAUTHORIZED', 'Sign in: send your API token as "Authorization: Bearer sb_…".');
        }
        wss.handleUpgrade(request, socket, head, (ws) => {
          const connection = serveConnection(app, ws, auth, ip, {
            messagesPerSecond: config.wsMessagesPerSecond,
            maxBufferedBytes: config.wsMaxBufferedBytes,
          });
          let alive = true;
          ws.on('pong', () => {
            alive = true;
          });
          const ping = setInterval(() => {
            if (!alive) return ws.terminate();
            alive = false;
            ws.ping();
          }, PING_MS);
          const { token } = auth;
          const recheck = setInterval(async () => {
            const verified = await verifyToken(app.sql, token).catch(() => undefined);
            if (verified && !verified.ok) ws.close(4401, 'Token no longer valid');
          }, REVALIDATE_MS);
          ping.unref();
          recheck.unref();
          ws.on('error', (error) => app.log.debug({ err: error }, 'rpc socket error'));
          ws.on('close', () => {
            clearInterval(ping);
            clearInterval(recheck);
            connection.dispose();
          });
        });
      },
      (error: unknown) => {
        app.log.error({ err: error }, 'rpc upgrade failed');
        socket.destroy();
      },
    );
  };

  app.server.on('upgrade', onUpgrade);
  return async () => {
    app.server.off('upgrade', onUpgrade);
    for (const client of wss.clients) client.close(1001, 'Server shutting down');
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
}
