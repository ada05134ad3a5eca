import { describeIssues, type ErrorCode, type ErrorEnvelope, type FieldIssue, HTTP_STATUS } from '@switchboard/protocol';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { actorOf } from '../auth/auth-plugin.js';
import { DATABASE_UNAVAILABLE, isConnectionError } from '../db/errors.js';
import { AppError } from '../errors.js';

/** Fastify's own error codes that are the client's fault, and what we call them. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'BAD_REQUEST',
};

export function envelope(code: ErrorCode, message: string, details?: Record<string, unknown>): ErrorEnvelope {
  return { error: details ? { code, message, details } : { code, message } };
}

function toEnvelope(error: FastifyError | AppError | Error): ErrorEnvelope {
  if (error instanceof AppError) return envelope(error.code, error.message, error.details);
  if (hasZodFastifySchemaValidationErrors(error)) {
    const location = (error as { validationContext?: string }).validationContext ?? 'body';
    const issues: FieldIssue[] = error.validation.map((issue) => ({
      path: issue.instancePath.replace(/^\//, '').replaceAll('/', '.'),
      message: issue.message ?? 'Invalid value',
    }));
    const sentence = describeIssues(issues.map((issue) => ({ ...issue, path: [location, issue.path].filter(Boolean).join('.') })));
    return envelope('BAD_REQUEST', sentence, { location, issues });
  }
  const fastifyCode = 'code' in error ? FASTIFY_CODES[String(error.code)] : undefined;
  if (fastifyCode === 'PAYLOAD_TOO_LARGE') return envelope(fastifyCode, 'The request body is larger than this server accepts.');
  if (fastifyCode === 'BAD_REQUEST' && String((error as FastifyError).code).includes('JSON')) {
    return envelope(fastifyCode, 'The request body is not valid JSON. Send a JSON object with content-type application/json.');
  }
  if (fastifyCode) return envelope(fastifyCode, `The request body could not be read: ${error.message}`);
  if (error instanceof SyntaxError && 'statusCode' in error) return envelope('BAD_REQUEST', 'The request body is not valid JSON.');
  if (isConnectionError(error)) return envelope('UNAVAILABLE', DATABASE_UNAVAILABLE);
  return envelope('INTERNAL', 'Something went wrong on the server. It has been logged; try again or tell your admin.');
}

/**
 * Denied and failed attempts get their own audit row: under the route's action when it has one
 * (`user.create` denied), else as `access.denied`. Unauthenticated attempts are recorded by auth.
 */
async function recordFailure(request: FastifyRequest, body: ErrorEnvelope): Promise<void> {
  const { code, message } = body.error;
  if (code === 'UNAUTHORIZED' || code === 'RATE_LIMITED' || !request.auth) return;
  const action = request.routeOptions.config?.audit;
  if (!action && code !== 'FORBIDDEN') return;
  await request.server.audit.recordAlone(actorOf(request), {
    action: action ?? 'access.denied',
    outcome: code === 'FORBIDDEN' ? 'denied' : 'error',
    target: auditTarget(request),
    payload: { method: request.method, route: request.routeOptions.url ?? request.url.split('?')[0], code, message },
  });
}

/** `/api/v1/users/:id` → `{ type: 'user', id }`; routes without an id have no target. */
function auditTarget(request: FastifyRequest): { type: string; id: string } | undefined {
  const id = (request.params as { id?: unknown } | undefined)?.id;
  const type = /^\/api\/v1\/([a-z]+)s\//.exec(request.routeOptions.url ?? '')?.[1];
  return typeof id === 'string' && type ? { type, id } : undefined;
}

/** One error handler for the whole app: a stable envelope, never a stack trace or SQL text. */
const errorHandler: FastifyPluginAsync = async (app) => {
  app.setErrorHandler(async (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const body = toEnvelope(error);
    const status = HTTP_STATUS[body.error.code];
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: body.error.code, message: body.error.message }, 'request refused');
    // Recording the failure needs the database; when that is what failed, the answer must still go out.
    if (body.error.code !== 'UNAVAILABLE')
      await recordFailure(request, body).catch((auditError: unknown) =>
        request.log.error({ err: auditError }, 'could not audit a failure'),
      );
    return reply.status(status).send(body);
  });

  app.setNotFoundHandler(async (request, reply) =>
    reply.status(404).send(envelope('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}. See /docs for the API.`)),
  );
};

export default fp(errorHandler, { name: 'error-handler', dependencies: ['services'] });
