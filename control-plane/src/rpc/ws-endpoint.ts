import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer } from 'ws';
import { type AuthContext, userFromRow } from '../auth/auth-plugin.js';
import { createWindowCounter } from '../auth/rate-limiter.js';
import { findByHash } from '../auth/token-repository.js';
import { hashToken } from '../auth/tokens.js';
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

  async function authenticate(request: IncomingMessage): Promise<AuthContext | string> {
    const header = request.headers.authorization;
    const token = header ? BEARER.exec(header)?.[1] : undefined;
    if (!token) return 'missing_token';
    const row = await findByHash(app.sql, hashToken(token));
    if (!row) return 'unknown_token';
    if (row.revoked_at) return 'revoked_token';
    if (row.expires_at && row.expires_at.getTime() <= Date.now()) return 'expired_token';
    if (row.disabled) return 'user_disabled';
    return { user: userFromRow(row), tokenId: row.token_id, token } as AuthContext & { token: string };
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
          const token = (auth as AuthContext & { token: string }).token;
          const recheck = setInterval(async () => {
            const row = await findByHash(app.sql, hashToken(token)).catch(() => undefined);
            const valid = row && !row.revoked_at && !row.disabled && !(row.expires_at && row.expires_at.getTime() <= Date.now());
            if (!valid) ws.close(4401, 'Token no longer valid');
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
