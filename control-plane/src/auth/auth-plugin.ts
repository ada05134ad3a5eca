import type { Role, User } from '@switchboard/protocol';
import type { FastifyPluginAsync, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import type { Actor, AuditAction } from '../audit/actions.js';
import { AppError, forbidden } from '../errors.js';
import { type AuthFailureLimiter, createAuthFailureLimiter, type FailureScope } from './rate-limiter.js';
import { touchLastUsed } from './token-repository.js';
import { verifyToken } from './verify-token.js';

export interface AuthContext {
  user: User;
  tokenId: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `authenticate` on every route of the authenticated API. */
    auth: AuthContext;
  }
  interface FastifyContextConfig {
    /** The action a mutating route records; its failed and denied attempts are recorded under it too. */
    audit?: AuditAction;
  }
  interface FastifyInstance {
    authenticate: (request: FastifyRequest) => Promise<void>;
    /** Failed authentications per address and per account, shared by every way in (REST, gateway, MCP, WebSocket). */
    authFailures: AuthFailureLimiter;
    requireRole: (...roles: Role[]) => preHandlerAsyncHookHandler;
  }
}

export function actorOf(request: FastifyRequest): Actor {
  const auth = request.auth as AuthContext | undefined;
  if (!auth) return { type: 'anonymous', ip: request.ip };
  return { type: 'user', userId: auth.user.id, tokenId: auth.tokenId, ip: request.ip };
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

const authPlugin: FastifyPluginAsync<{ failuresPerMinute: number }> = async (app, options) => {
  const failures = createAuthFailureLimiter({ limit: options.failuresPerMinute });
  app.decorate('authFailures', failures);

  async function reject(request: FastifyRequest, reason: string, credential?: string): Promise<never> {
    const ip = request.ip;
    const verdict = failures.fail({ address: ip, credential });
    if (verdict.limited) {
      // Record the moment a client or an account crosses the limit, then stay quiet for the rest of the window.
      if (verdict.first) {
        await app.audit.recordAlone(
          { type: 'anonymous', ip },
          { action: 'auth.rate_limited', outcome: 'denied', payload: { reason, scope: verdict.scope } },
        );
      }
      throw new AppError('RATE_LIMITED', limitedText(verdict.scope));
    }
    await app.audit.recordAlone(
      { type: 'anonymous', ip },
      { action: 'auth.denied', outcome: 'denied', payload: { reason, method: request.method, url: request.url.split('?')[0] } },
    );
    throw new AppError('UNAUTHORIZED', reasonText(reason));
  }

  app.decorateRequest('auth', null as unknown as AuthContext);

  app.decorate('authenticate', async (request: FastifyRequest) => {
    const header = request.headers.authorization;
    if (!header) return reject(request, 'missing_token');
    const match = BEARER.exec(header);
    if (!match?.[1]) return reject(request, 'malformed_header');
    const verified = await verifyToken(app.sql, match[1]);
    if (!verified.ok) return reject(request, verified.reason, match[1]);
    request.auth = verified.auth;
    if (!verified.lastUsedAt || Date.now() - verified.lastUsedAt.getTime() > 60_000) {
      touchLastUsed(app.sql, verified.auth.tokenId).catch((error) => request.log.warn({ err: error }, 'could not update token last use'));
    }
  });

  app.decorate('requireRole', (...roles: Role[]) => async (request: FastifyRequest) => {
    if (!roles.includes(request.auth.user.role)) {
      throw forbidden(`This needs the ${roles.join(' or ')} role; you are ${request.auth.user.role}. Ask an admin.`);
    }
  });
};

function limitedText(scope: FailureScope): string {
  return scope === 'account'
    ? 'Too many failed sign-in attempts with this token. Wait a minute and try again.'
    : 'Too many failed sign-in attempts from this address. Wait a minute and try again.';
}

function reasonText(reason: string): string {
  switch (reason) {
    case 'missing_token':
      return 'Sign in: send your API token as "Authorization: Bearer sb_…".';
    case 'malformed_header':
      return 'The Authorization header must be "Bearer <token>".';
    case 'revoked_token':
      return 'This token was revoked. Create a new one or ask an admin.';
    case 'expired_token':
      return 'This token has expired. Create a new one or ask an admin.';
    case 'user_disabled':
      return 'This account is disabled. Ask an admin.';
    default:
      return 'This token is not valid. Check it, or ask an admin for a new one.';
  }
}

export default fp(authPlugin, { name: 'auth', dependencies: ['services'] });
