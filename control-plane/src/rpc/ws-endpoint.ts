import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer } from 'ws';
import { listenForAccessChanges } from '../auth/access-changes.js';
import type { AuthContext } from '../auth/auth-plugin.js';
import { createClientAddress } from '../auth/client-address.js';
import { verifyToken } from '../auth/verify-token.js';
import { serveConnection } from './connection.js';

const BEARER = /^Bearer\s+(\S+)\s*$/i;
const REVALIDATE_MS = 60_000;
const PING_MS = 30_000;

/** A connection's rights are those of the moment it opened: when they change, it closes and the client reconnects with the new ones. */
const CLOSE_REVOKED = 4401;
const CLOSE_RIGHTS_CHANGED = 4403;

interface Live {
  auth: AuthContext & { token: string };
  recheck(): Promise<void>;
}

/**
 * `GET /rpc`: the WebSocket the VS Code extension speaks JSON-RPC over. The bearer token is checked
 * on the upgrade request itself, so an unauthenticated client never gets a single frame. Token,
 * account and role are checked again when any control plane announces a change to them (a
 * NOTIFY), and every minute in case a notice was missed: a revoked token or a disabled account
 * closes the socket, a changed role closes it so the client reconnects with its new rights.
 */
export async function attachRpcEndpoint(app: FastifyInstance): Promise<() => Promise<void>> {
  const { config } = app;
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.wsMaxMessageBytes, perMessageDeflate: false });
  const failures = app.authFailures;
  const clientAddress = createClientAddress(config.trustProxy);
  const live = new Set<Live>();
  /** Upgrades accepted but not yet open, per user: counted with the open ones, so a burst cannot slip past the limit. */
  const upgrading = new Map<string, number>();
  const unlisten = await listenForAccessChanges(app.sql, (change) => {
    for (const connection of live) {
      if (change.userId === connection.auth.user.id || change.tokenId === connection.auth.tokenId)
        void connection.recheck().catch((error: unknown) => app.log.warn({ err: error }, 'could not re-check a connection'));
    }
  });

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
    const ip = clientAddress(request);
    authenticate(request).then(
      async (auth) => {
        if (typeof auth === 'string') {
          if (failures.fail({ address: ip, credential: BEARER.exec(request.headers.authorization ?? '')?.[1] }).limited)
            return refuse(socket, 429, 'RATE_LIMITED', 'Too many failed sign-in attempts. Wait a minute.');
          await app.audit.recordAlone(
            { type: 'anonymous', ip },
            { action: 'auth.denied', outcome: 'denied', payload: { reason: auth, url: '/rpc' } },
          );
          return refuse(socket, 401, 'UNAUTHORIZED', 'Sign in: send your API token as "Authorization: Bearer sb_…".');
        }
        const userId = auth.user.id;
        const open = [...live].filter((entry) => entry.auth.user.id === userId).length + (upgrading.get(userId) ?? 0);
        if (open >= config.wsConnectionsPerUser)
          return refuse(
            socket,
            429,
            'RATE_LIMITED',
            `You have ${open} open connections to Switchboard, the most one person may have. Close an editor window, then reconnect.`,
          );
        upgrading.set(userId, (upgrading.get(userId) ?? 0) + 1);
        const settled = () => {
          const left = (upgrading.get(userId) ?? 1) - 1;
          if (left > 0) upgrading.set(userId, left);
          else upgrading.delete(userId);
        };
        socket.once('close', settled);
        wss.handleUpgrade(request, socket, head, (ws) => {
          socket.off('close', settled);
          settled();
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
          const entry: Live = {
            auth,
            async recheck() {
              const verified = await verifyToken(app.sql, auth.token);
              if (!verified.ok) return ws.close(CLOSE_REVOKED, 'Token no longer valid');
              const now = verified.auth.user;
              if (now.role !== auth.user.role) ws.close(CLOSE_RIGHTS_CHANGED, 'Your role changed; reconnecting with the new rights');
            },
          };
          live.add(entry);
          const recheck = setInterval(() => void entry.recheck().catch(() => {}), REVALIDATE_MS);
          ping.unref();
          recheck.unref();
          ws.on('error', (error) => app.log.debug({ err: error }, 'rpc socket error'));
          ws.on('close', () => {
            live.delete(entry);
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
    await unlisten().catch(() => {});
    for (const client of wss.clients) client.close(1001, 'Server shutting down');
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
}
