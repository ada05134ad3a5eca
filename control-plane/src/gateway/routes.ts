import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '../audit/actions.js';
import { verifyToken } from '../auth/verify-token.js';
import type { GatewayCaller } from './gateway-service.js';
import { SESSION_KEY_PREFIX } from './session-keys.js';
import { errorBody, type WireFormat } from './wire.js';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * The model gateway: OpenAI Chat Completions and Anthropic Messages, authenticated by a user's API
 * token or a per-session key (`Authorization: Bearer …` or `x-api-key`). Errors come back in the
 * caller's own format, so SDKs and agents read them natively.
 */
export const gatewayRoutes: FastifyPluginAsync = async (app) => {
  const failures = app.authFailures;

  async function authenticate(request: FastifyRequest, format: WireFormat): Promise<GatewayCaller | { status: number; body: unknown }> {
    const ip = request.ip;
    const deny = async (reason: string, credential?: string) => {
      if (failures.fail({ address: ip, credential }).limited) {
        return {
          status: 429,
          body: errorBody(format, 'rate_limit_error', 'RATE_LIMITED', 'Too many failed sign-in attempts. Wait a minute and try again.'),
        };
      }
      await app.audit.recordAlone(
        { type: 'anonymous', ip },
        { action: 'auth.denied', outcome: 'denied', payload: { reason, url: request.url } },
      );
      return {
        status: 401,
        body: errorBody(format, 'authentication_error', 'UNAUTHORIZED', 'Send a Switchboard token or session key as the API key.'),
      };
    };
    const header = request.headers.authorization;
    const key =
      (header && BEARER.exec(header)?.[1]) || (typeof request.headers['x-api-key'] === 'string' ? request.headers['x-api-key'] : undefined);
    if (!key) return deny('missing_token');
    const harnessSessionId = typeof request.headers['x-session-id'] === 'string' ? request.headers['x-session-id'].slice(0, 200) : null;

    if (key.startsWith(SESSION_KEY_PREFIX)) {
      const owner = await app.sessionKeys.lookup(key);
      if (!owner) return deny('unknown_session_key', key);
      if (owner.disabled) return deny('user_disabled', key);
      const actor: Actor = { type: 'user', userId: owner.userId, ip };
      const caller: GatewayCaller = {
        actor,
        userId: owner.userId,
        tokenId: null,
        sessionId: owner.sessionId,
        sessionKeyId: owner.keyId,
        harnessSessionId,
      };
      return checkHarnessSession(caller, format);
    }
    const verified = await verifyToken(app.sql, key);
    if (!verified.ok) return deny(verified.reason, key);
    const { user, tokenId } = verified.auth;
    const actor: Actor = { type: 'user', userId: user.id, tokenId, ip };
    return checkHarnessSession({ actor, userId: user.id, tokenId, sessionId: null, sessionKeyId: null, harnessSessionId }, format);
  }

  /** An `x-session-id` that names someone else's OpenCode session is refused: keys spend only their own user's budget. */
  async function checkHarnessSession(
    caller: GatewayCaller,
    format: WireFormat,
  ): Promise<GatewayCaller | { status: number; body: unknown }> {
    if (!caller.harnessSessionId) return caller;
    const owner = await app.sessionKeys.harnessSessionOwner(caller.harnessSessionId);
    const foreign = owner && (owner.userId !== caller.userId || (caller.sessionId !== null && owner.sessionId !== caller.sessionId));
    if (!foreign) return { ...caller, sessionId: caller.sessionId ?? owner?.sessionId ?? null };
    await app.audit.recordAlone(caller.actor, {
      action: 'access.denied',
      outcome: 'denied',
      payload: { reason: 'foreign_harness_session', harnessSessionId: caller.harnessSessionId },
    });
    return { status: 403, body: errorBody(format, 'permission_error', 'FORBIDDEN', 'This key cannot be used for another user’s session.') };
  }

  const handler = (format: WireFormat) => async (request: FastifyRequest, reply: FastifyReply) => {
    const caller = await authenticate(request, format);
    if ('status' in caller) return reply.status(caller.status).header('x-should-retry', 'false').send(caller.body);
    return app.gateway.handle(format, caller, request.body, request.headers, reply);
  };

  const bodyLimit = app.config.gatewayBodyLimitBytes;
  app.post('/gateway/v1/chat/completions', { bodyLimit, schema: { hide: true } }, handler('openai'));
  app.post('/gateway/v1/messages', { bodyLimit, schema: { hide: true } }, handler('anthropic'));
  app.get('/gateway/v1/models', { schema: { hide: true } }, async (request, reply) => {
    const caller = await authenticate(request, 'openai');
    if ('status' in caller) return reply.status(caller.status).send(caller.body);
    const models = await app.providers.enabledModels();
    return {
      object: 'list',
      data: models.map(({ model, provider }) => ({
        id: model.name,
        object: 'model',
        created: Math.floor(model.created_at.getTime() / 1000),
        owned_by: provider.name,
        format: provider.kind === 'anthropic' ? 'anthropic' : 'openai',
        context_window: model.context_limit,
        max_output_tokens: model.output_limit,
      })),
    };
  });

  app.setErrorHandler(async (error: Error & { code?: string; statusCode?: number }, request, reply) => {
    const format: WireFormat = request.url.includes('/messages') ? 'anthropic' : 'openai';
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply
        .status(413)
        .send(errorBody(format, 'request_too_large', 'PAYLOAD_TOO_LARGE', 'The request is larger than this gateway accepts.'));
    }
    if (error.statusCode && error.statusCode < 500) {
      return reply.status(400).send(errorBody(format, 'invalid_request_error', 'BAD_REQUEST', 'The request body is not valid JSON.'));
    }
    request.log.error({ err: error }, 'gateway request failed');
    return reply.status(500).send(errorBody(format, 'api_error', 'INTERNAL', 'The gateway failed on this request; it has been logged.'));
  });
};
