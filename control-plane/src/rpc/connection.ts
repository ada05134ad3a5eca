import {
  JSONRPC_CODE,
  type ProgressToken,
  RPC_METHODS,
  type RpcParsedParams,
  type RpcRequestMethod,
  rpcRequests,
  type SessionEventNotification,
  toFieldIssues,
} from '@switchboard/protocol';
import type { FastifyInstance } from 'fastify';
import {
  type CancellationToken,
  createMessageConnection,
  type Message,
  type MessageConnection,
  ProgressType,
  ResponseError,
} from 'vscode-jsonrpc/node';
import type { WebSocket } from 'ws';
import type { Actor } from '../audit/actions.js';
import type { AuthContext } from '../auth/auth-plugin.js';
import { DATABASE_UNAVAILABLE, isConnectionError } from '../db/errors.js';
import { AppError } from '../errors.js';
import { VERSION } from '../version.js';
import { followBudgets } from './budget-feed.js';
import { WebSocketMessageReader, WebSocketMessageWriter } from './ws-transport.js';

const MAX_SUBSCRIPTIONS = 200;
const BACKLOG_PAGE = 500;
/** Live events held while a subscription replays its backlog; past this the client resubscribes. */
const MAX_REPLAY_BUFFER = 10_000;
/** How long a backlog replay waits for a client that is not reading before giving up on it. */
const DRAIN_WAIT_MS = 30_000;

type WorkDoneProgress = { kind: 'begin'; title: string; message?: string } | { kind: 'report'; message?: string } | { kind: 'end' };
const workDone = new ProgressType<WorkDoneProgress>();

interface Subscription {
  off: () => void;
  lastSeq: number;
}

export interface ConnectionLimits {
  messagesPerSecond: number;
  maxBufferedBytes: number;
}

/**
 * One client connection: the JSON-RPC methods of the protocol table, each parsed with its zod
 * schema, plus live session subscriptions. A client that reads too slowly is told to resubscribe
 * from its last seq instead of letting unsent events pile up in memory.
 */
export function serveConnection(
  app: FastifyInstance,
  socket: WebSocket,
  auth: AuthContext,
  ip: string,
  limits: ConnectionLimits,
): MessageConnection {
  const actor: Actor = { type: 'user', userId: auth.user.id, tokenId: auth.tokenId, ip };
  const subscriptions = new Map<string, Subscription>();
  let windowStart = Date.now();
  let windowCount = 0;
  let connection: MessageConnection;

  const rawSend = (message: unknown) => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
  };

  /** Flood control: past the rate, requests are answered RATE_LIMITED without running; far past it the socket closes. */
  const admit = (message: Message): boolean => {
    const now = Date.now();
    if (now - windowStart >= 1000) {
      windowStart = now;
      windowCount = 0;
    }
    windowCount += 1;
    if (windowCount <= limits.messagesPerSecond) return true;
    if (windowCount > limits.messagesPerSecond * 5) {
      socket.close(1008, 'Too many messages');
      return false;
    }
    const id = (message as { id?: unknown }).id;
    if (id !== undefined && id !== null && (message as { method?: unknown }).method) {
      rawSend({
        jsonrpc: '2.0',
        id,
        error: { code: JSONRPC_CODE.RATE_LIMITED, message: 'Too many messages; slow down.', data: { code: 'RATE_LIMITED' } },
      });
    }
    return false;
  };

  const reader = new WebSocketMessageReader(socket, admit, (reason) =>
    rawSend({ jsonrpc: '2.0', id: null, error: { code: -32700, message: reason, data: { code: 'BAD_REQUEST' } } }),
  );
  connection = createMessageConnection(reader, new WebSocketMessageWriter(socket));

  function toResponseError(error: unknown): ResponseError<unknown> {
    if (error instanceof ResponseError) return error;
    if (error instanceof AppError)
      return new ResponseError(JSONRPC_CODE[error.code], error.message, { code: error.code, ...error.details });
    if (isConnectionError(error)) return new ResponseError(JSONRPC_CODE.UNAVAILABLE, DATABASE_UNAVAILABLE, { code: 'UNAVAILABLE' });
    app.log.error({ err: error }, 'rpc handler failed');
    return new ResponseError(JSONRPC_CODE.INTERNAL, 'Something went wrong on the server. It has been logged.', { code: 'INTERNAL' });
  }

  function parse(method: RpcRequestMethod, params: unknown): unknown {
    const parsed = rpcRequests[method].params.safeParse(params ?? {});
    if (parsed.success) return parsed.data;
    const issues = toFieldIssues(parsed.error);
    const first = issues[0];
    throw new ResponseError(
      JSONRPC_CODE.BAD_REQUEST,
      `Invalid params${first?.path ? `.${first.path}` : ''}: ${first?.message ?? 'malformed'}`,
      { code: 'BAD_REQUEST', issues },
    );
  }

  function send(notification: SessionEventNotification) {
    void connection.sendNotification('session/event', notification);
  }

  function unsubscribe(sessionId: string) {
    subscriptions.get(sessionId)?.off();
    subscriptions.delete(sessionId);
  }

  /** The socket is backed up: stop this subscription and tell the client where to pick up again. */
  function overflow(sessionId: string) {
    const subscription = subscriptions.get(sessionId);
    if (!subscription) return;
    unsubscribe(sessionId);
    void connection.sendNotification('session/resubscribe', { sessionId, lastSeq: subscription.lastSeq });
  }

  /** Waits (bounded) until the socket's unsent bytes fall below half the limit. */
  async function drained(): Promise<boolean> {
    const deadline = Date.now() + DRAIN_WAIT_MS;
    while (socket.bufferedAmount > limits.maxBufferedBytes / 2) {
      if (socket.readyState !== socket.OPEN || Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return true;
  }

  function overflowed(sessionId: string, subscription: Subscription): { lastSeq: number } {
    if (subscriptions.get(sessionId) === subscription) overflow(sessionId);
    return { lastSeq: subscription.lastSeq };
  }

  async function subscribe(sessionId: string, sinceSeq: number, token: CancellationToken): Promise<{ lastSeq: number }> {
    await app.sessions.get(auth, sessionId);
    unsubscribe(sessionId);
    if (subscriptions.size >= MAX_SUBSCRIPTIONS)
      throw new AppError('RATE_LIMITED', `At most ${MAX_SUBSCRIPTIONS} sessions can be followed on one connection.`);
    const subscription: Subscription = { off: () => {}, lastSeq: sinceSeq };
    let replay: SessionEventNotification[] | null = [];
    const deliver = (event: SessionEventNotification) => {
      if (subscriptions.get(sessionId) !== subscription || event.seq <= subscription.lastSeq) return;
      if (socket.bufferedAmount > limits.maxBufferedBytes) return overflow(sessionId);
      subscription.lastSeq = event.seq;
      send(event);
    };
    subscription.off = app.sessionEvents.subscribe(sessionId, (event) => {
      if (!replay) return deliver(event);
      if (replay.length >= MAX_REPLAY_BUFFER) return overflow(sessionId);
      replay.push(event);
    });
    subscriptions.set(sessionId, subscription);
    // The backlog is read a page at a time and sent as fast as the client reads it, never faster.
    for (;;) {
      if (token.isCancellationRequested || subscriptions.get(sessionId) !== subscription) break;
      const page = await app.sessionEvents.backlog(app.sql, sessionId, subscription.lastSeq, BACKLOG_PAGE);
      for (const event of page) {
        if (!(await drained())) return overflowed(sessionId, subscription);
        deliver(event);
      }
      if (page.length < BACKLOG_PAGE || subscriptions.get(sessionId) !== subscription) break;
    }
    const held = replay;
    replay = null;
    for (const event of held) deliver(event);
    return { lastSeq: subscription.lastSeq };
  }

  /** LSP work-done progress for a request that sent a token: begun on the first report, ended when the request settles. */
  async function withProgress<T>(token: ProgressToken | undefined, work: (report: (message: string) => void) => Promise<T>): Promise<T> {
    let begun = false;
    const report = (message: string) => {
      if (token === undefined) return;
      void connection.sendProgress(workDone, token, begun ? { kind: 'report', message } : { kind: 'begin', title: 'Switchboard', message });
      begun = true;
    };
    try {
      return await work(report);
    } finally {
      if (begun && token !== undefined) void connection.sendProgress(workDone, token, { kind: 'end' });
    }
  }

  const budgetFeed = followBudgets(app, auth.user.id, (method, params) => void connection.sendNotification(method, params));
  const offScheduleRuns = app.schedules.onRunEnded(auth.user.id, (notice) => void connection.sendNotification('schedule/run', notice));

  const handlers: { [M in RpcRequestMethod]: (params: RpcParsedParams<M>, token: CancellationToken) => Promise<unknown> } = {
    'session/create': (params) => withProgress(params.workDoneToken, (report) => app.sessions.create(auth, actor, params, report)),
    'session/list': async (params) => ({ items: await app.sessions.list(auth, params) }),
    'session/get': (params) => app.sessions.get(auth, params.sessionId),
    'session/prompt': (params) => withProgress(params.workDoneToken, (report) => app.sessions.prompt(auth, actor, params, report)),
    'session/abort': (params) => app.sessions.abort(auth, actor, params.sessionId),
    'session/archive': (params) => app.sessions.archive(auth, actor, params.sessionId),
    'session/subscribe': (params, token) => subscribe(params.sessionId, params.sinceSeq, token),
    'session/unsubscribe': async (params) => {
      unsubscribe(params.sessionId);
      return {};
    },
    'permission/reply': async (params) => {
      await app.harnessBridge.replyPermission(auth, actor, params);
      return {};
    },
    'question/reply': async (params) => {
      await app.harnessBridge.replyQuestion(auth, actor, params);
      return {};
    },
    'session/changes': (params) => app.sessions.changes(auth, params.sessionId),
    'session/file': (params) => app.sessions.file(auth, params.sessionId, params.path),
    'budget/get': async () => budgetFeed.current(),
    'agent/list': async () => ({ items: await app.agents.list(auth) }),
    'memory/list': (params) => app.memory.list(auth, params.agentId),
    'memory/put': (params) => app.memory.put(auth, actor, params.agentId, params.key, params.content),
    'memory/delete': async (params) => {
      await app.memory.remove(auth, actor, params.agentId, params.key);
      return { deleted: true as const };
    },
    'schedule/list': async () => ({ items: await app.schedules.listOwn(auth.user.id) }),
  };

  for (const method of RPC_METHODS) {
    const handler = handlers[method] as (params: unknown, token: CancellationToken) => Promise<unknown>;
    connection.onRequest(method, async (params: unknown, token: CancellationToken): Promise<unknown> => {
      try {
        const result = await handler(parse(method, params), token);
        return rpcRequests[method].result.parse(result) as unknown;
      } catch (error) {
        throw toResponseError(error);
      }
    });
  }

  connection.onRequest('initialize', () => ({
    capabilities: { experimental: { switchboard: { methods: RPC_METHODS, protocolVersion: 1 } } },
    serverInfo: { name: 'switchboard-control-plane', version: VERSION },
    user: { id: auth.user.id, email: auth.user.email, displayName: auth.user.displayName, role: auth.user.role },
  }));
  connection.onNotification('initialized', () => {});
  connection.onRequest('shutdown', () => {
    for (const sessionId of [...subscriptions.keys()]) unsubscribe(sessionId);
    return null;
  });
  connection.onNotification('exit', () => socket.close(1000, 'exit'));
  connection.onClose(() => {
    for (const sessionId of [...subscriptions.keys()]) unsubscribe(sessionId);
    budgetFeed.close();
    offScheduleRuns();
  });
  connection.listen();
  return connection;
}
