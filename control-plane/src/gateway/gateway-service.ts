import type { FastifyReply } from 'fastify';
import { Agent, request as upstreamRequest } from 'undici';
import { capReached, SESSION_CAP_MESSAGE, type SessionCap } from '../agents/session-budget.js';
import type { Actor } from '../audit/actions.js';
import type { AuditService } from '../audit/audit-service.js';
import { createWindowCounter } from '../auth/rate-limiter.js';
import type { BudgetService, Reservation } from '../budgets/budget-service.js';
import type { Sql } from '../db/client.js';
import type { Logger } from '../logger.js';
import { guardedLookup, type OutboundRules } from '../net/outbound.js';
import type { ProviderService, ResolvedModel } from '../providers/provider-service.js';
import { planCall } from './call-plan.js';
import { costOf, type Prices, type TokenUsage, worstCaseCost } from './pricing.js';
import { refusalBody, refusalMessage } from './refusal.js';
import { parseRequest } from './requests.js';
import { type CallRecord, settleCall } from './settle.js';
import { createStreamMeter } from './stream-meter.js';
import { errorBody, streamErrorEvent, usageFromResponse, type WireFormat } from './wire.js';

export interface GatewayCaller {
  actor: Actor;
  userId: string;
  tokenId: string | null;
  /** Set when the call came with a per-session key: the session it is bound to. */
  sessionId: string | null;
  sessionKeyId: string | null;
  /** OpenCode's `x-session-id`, when sent. */
  harnessSessionId: string | null;
}

export interface GatewayOptions {
  sql: Sql;
  audit: AuditService;
  budgets: BudgetService;
  providers: ProviderService;
  log: Logger;
  sessionRpm: number;
  upstreamTimeoutS: number;
  outbound: OutboundRules;
  /** A session's spending cap (its agent's `maxBudgetPerSession`) and its spend so far; undefined without a cap. */
  sessionCap?: (sessionId: string) => Promise<SessionCap | undefined>;
}

/** Headers of the provider's answer that the client may need (retry hints, request ids). */
const FORWARDED = ['content-type', 'retry-after', 'retry-after-ms', 'request-id', 'x-request-id'];
const MAX_BUFFERED = 64 * 1024 * 1024;

export type Gateway = ReturnType<typeof createGateway>;

export function createGateway(options: GatewayOptions) {
  const { log } = options;
  const agent = new Agent({
    // The provider's host is checked when it is configured; here again at each connection, so DNS
    // that later points inward is refused too.
    connect: { lookup: guardedLookup(options.outbound) },
    keepAliveTimeout: 30_000,
    connections: 512,
    headersTimeout: options.upstreamTimeoutS * 1000,
    bodyTimeout: options.upstreamTimeoutS * 1000,
  });
  const breaker = createWindowCounter({ limit: options.sessionRpm, maxKeys: 50_000 });

  const fail = (
    reply: FastifyReply,
    format: WireFormat,
    status: number,
    type: string,
    code: string,
    message: string,
    extra?: Record<string, unknown>,
  ) =>
    reply
      .status(status)
      .header('x-should-retry', 'false')
      .send(errorBody(format, type, code, message, extra));

  async function handle(
    format: WireFormat,
    caller: GatewayCaller,
    body: unknown,
    headers: Record<string, unknown>,
    reply: FastifyReply,
  ): Promise<unknown> {
    const started = performance.now();
    const parsed = parseRequest(format, body, headers);
    if (!parsed.ok) return fail(reply, format, 400, 'invalid_request_error', 'BAD_REQUEST', parsed.message, { param: parsed.param });
    const { call } = parsed;
    const request = call.request;
    const streamed = request.stream === true;
    const resolved = await options.providers.resolve(request.model);
    if (!resolved) {
      return fail(
        reply,
        format,
        404,
        'not_found_error',
        'NOT_FOUND',
        `The model "${request.model}" is not offered here. List models at /gateway/v1/models.`,
      );
    }
    const expected: WireFormat = resolved.provider.kind === 'anthropic' ? 'anthropic' : 'openai';
    if (expected !== format) {
      const path = expected === 'anthropic' ? '/gateway/v1/messages' : '/gateway/v1/chat/completions';
      return fail(
        reply,
        format,
        400,
        'invalid_request_error',
        'BAD_REQUEST',
        `The model "${request.model}" is served in the ${expected} format: call ${path}.`,
      );
    }
    const breakerKey = caller.sessionKeyId ?? caller.harnessSessionId;
    if (breakerKey && breaker.hit(breakerKey) > options.sessionRpm) {
      // 402, not 429: an agent retries 429 without end. The wording avoids what agents read as "retry".
      return fail(
        reply,
        format,
        402,
        'request_breaker',
        'RATE_LIMITED',
        'This session made too many model calls in a short time and was stopped. Start a new turn when ready.',
      );
    }

    const cap = caller.sessionId && options.sessionCap ? await options.sessionCap(caller.sessionId) : undefined;
    if (capReached(cap)) {
      const sessionCap = { limitMicros: Number(cap.limitMicros), spentMicros: Number(cap.spentMicros) };
      await options.audit.recordAlone(caller.actor, {
        action: 'gateway.refused',
        outcome: 'denied',
        target: { type: 'session', id: caller.sessionId as string },
        payload: { model: request.model, harnessSessionId: caller.harnessSessionId, sessionCap },
      });
      const budget = caller.sessionKeyId ? { scope: 'session' } : { scope: 'session', ...sessionCap };
      return fail(reply, format, 402, 'budget_exceeded', 'BUDGET_EXCEEDED', SESSION_CAP_MESSAGE, { budget });
    }

    const plan = planCall(call, resolved.model);
    const prices = pricesOf(resolved);
    const amount = worstCaseCost(plan.inputTokens, plan.outputTokens, prices);
    const reserved = await options.budgets.reserve(caller.userId, amount);
    if (!reserved.ok) {
      await options.audit.recordAlone(caller.actor, {
        action: 'gateway.refused',
        outcome: 'denied',
        target: caller.sessionId ? { type: 'session', id: caller.sessionId } : { type: 'model', id: request.model },
        payload: { model: request.model, harnessSessionId: caller.harnessSessionId, refusal: reserved.refusal },
      });
      const figures = caller.sessionKeyId ? undefined : reserved.refusal;
      return reply
        .status(402)
        .header('x-should-retry', 'false')
        .send(refusalBody(format, refusalMessage(reserved.refusal.scope), reserved.refusal, figures));
    }

    const record = (partial: Pick<CallRecord, 'usage' | 'cost' | 'outcome' | 'status'>): CallRecord => ({
      ...partial,
      actor: caller.actor,
      userId: caller.userId,
      sessionId: caller.sessionId,
      harnessSessionId: caller.harnessSessionId,
      tokenId: caller.tokenId,
      model: resolved.model.name,
      providerId: resolved.provider.id,
      format,
      stream: streamed,
      reservation: reserved.reservation,
      latencyMs: performance.now() - started,
    });
    const settle = (settled: CallRecord) =>
      settleCall(options, settled).catch((error: unknown) => {
        // The reservation stays held and the sweeper releases it; the call is logged for a manual look.
        log.error({ err: error, model: settled.model, userId: settled.userId, costMicros: settled.cost }, 'could not settle a model call');
      });

    // A caller who hangs up stops a stream (the provider stops generating and we charge what was sent),
    // but not a non-streamed call: the provider finishes and bills it anyway, so we wait for its usage.
    const abort = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    let upstream: Awaited<ReturnType<typeof upstreamRequest>>;
    try {
      upstream = await upstreamRequest(upstreamUrl(format, resolved), {
        method: 'POST',
        headers: upstreamHeaders(format, resolved, call.headers),
        body: JSON.stringify(plan.payload),
        dispatcher: agent,
        ...(streamed ? { signal: abort.signal } : {}),
      });
    } catch (error) {
      if (streamed && abort.signal.aborted) {
        // Left before the first byte: like a stream cut later, it pays at most for its input and the (no) output sent.
        const cost = minBig(reserved.reservation.amount, worstCaseCost(plan.inputTokens, 0, prices));
        await settle(record({ usage: undefined, cost, outcome: 'client_aborted', status: 502 }));
        return reply;
      }
      await settle(record({ usage: undefined, cost: 0n, outcome: 'upstream_error', status: 502 }));
      if (abort.signal.aborted) return reply;
      log.warn({ err: error, provider: resolved.provider.name }, 'model provider unreachable');
      return reply
        .status(502)
        .send(
          errorBody(
            format,
            'api_error',
            'UPSTREAM_ERROR',
            'The model provider could not be reached. Check the provider settings or its status.',
          ),
        );
    }

    if (upstream.statusCode >= 400 || !streamed) {
      const buffer = await readCapped(upstream.body, MAX_BUFFERED).catch(() => undefined);
      const answered = upstream.statusCode < 400;
      const usage = answered && buffer !== undefined ? usageFromResponse(format, safeJson(buffer)) : undefined;
      // The provider bills an answer it sent, whether or not the caller stayed or its body could be read:
      // its usage when reported, else the reservation; an error status costs nothing.
      const cost = !answered ? 0n : usage ? costOf(usage, prices) : reserved.reservation.amount;
      const outcome = !answered || buffer === undefined ? 'upstream_error' : abort.signal.aborted ? 'client_aborted' : 'ok';
      await settle(record({ usage, cost, outcome, status: upstream.statusCode }));
      if (abort.signal.aborted) return reply;
      if (buffer === undefined)
        return reply.status(502).send(errorBody(format, 'api_error', 'UPSTREAM_ERROR', 'The model provider sent an unreadable answer.'));
      for (const name of FORWARDED) if (upstream.headers[name]) reply.header(name, upstream.headers[name]);
      return reply.status(upstream.statusCode).send(buffer);
    }

    return stream(format, upstream, reply, abort, {
      reservation: reserved.reservation,
      prices,
      inputBound: plan.inputTokens,
      finish: (partial) => settle(record(partial)),
    });
  }

  return { handle, close: () => agent.close() };
}

interface StreamContext {
  reservation: Reservation;
  prices: Prices;
  inputBound: number;
  finish: (partial: Pick<CallRecord, 'usage' | 'cost' | 'outcome' | 'status'>) => Promise<void>;
}

/**
 * Passes the provider's event stream through chunk by chunk (never buffering the answer), metering
 * it on the way. A stream that breaks gets a proper error event; the call is settled before the
 * response ends, so a finished response means a committed charge.
 */
async function stream(
  format: WireFormat,
  upstream: Awaited<ReturnType<typeof upstreamRequest>>,
  reply: FastifyReply,
  abort: AbortController,
  context: StreamContext,
): Promise<FastifyReply> {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(upstream.statusCode, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  res.flushHeaders();
  const meter = createStreamMeter(format);
  let broken = false;
  try {
    for await (const chunk of upstream.body) {
      meter.feed(chunk as Buffer);
      if (!res.write(chunk)) await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve));
      if (abort.signal.aborted) break;
    }
  } catch {
    broken = !abort.signal.aborted;
  }
  const clientGone = abort.signal.aborted;
  const complete = meter.finished && !broken && !clientGone;
  if (!complete && !clientGone && !meter.upstreamError) {
    res.write(streamErrorEvent(format, 'The model provider stopped in the middle of the answer. Send the request again.'));
  }
  const usage = meter.usage;
  // Without a reported usage a call is charged its reservation, never zero; a caller that hung up
  // pays at most for the input and the output it was sent.
  let cost = context.reservation.amount;
  if (complete && usage) cost = costOf(usage, context.prices);
  else if (clientGone) cost = minBig(cost, worstCaseCost(context.inputBound, meter.outputTokensBound, context.prices));
  const outcome = complete ? 'ok' : clientGone ? 'client_aborted' : 'broken_stream';
  await context.finish({ usage, cost, outcome, status: upstream.statusCode });
  if (!res.destroyed) res.end();
  return reply;
}

function pricesOf({ model }: ResolvedModel): Prices {
  return { input: model.price_input, output: model.price_output, cacheRead: model.price_cache_read, cacheWrite: model.price_cache_write };
}

/** Anthropic's base URL may or may not end in /v1; OpenAI-style base URLs include their version. */
function upstreamUrl(format: WireFormat, { provider }: ResolvedModel): string {
  if (format === 'openai') return `${provider.base_url}/chat/completions`;
  return provider.base_url.endsWith('/v1') ? `${provider.base_url}/messages` : `${provider.base_url}/v1/messages`;
}

/** Our own headers only: of the caller's, just the parsed Anthropic version and allowed betas go on. */
function upstreamHeaders(format: WireFormat, { apiKey }: ResolvedModel, forwarded: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'user-agent': 'switchboard-gateway',
  };
  if (format === 'openai') {
    if (apiKey) headers.authorization = `Bearer ${apiKey}`;
    return headers;
  }
  if (apiKey) headers['x-api-key'] = apiKey;
  return { ...forwarded, ...headers };
}

async function readCapped(body: AsyncIterable<Buffer>, cap: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > cap) throw new Error('upstream answer too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function safeJson(buffer: Buffer | undefined): unknown {
  if (!buffer) return undefined;
  try {
    return JSON.parse(buffer.toString('utf8'));
  } catch {
    return undefined;
  }
}

const minBig = (a: bigint, b: bigint) => (a < b ? a : b);

export type { TokenUsage };
