import { randomUUID } from 'node:crypto';
import {
  type BudgetAlertNotification,
  type ConnectionState,
  ErrorCode,
  RpcInitializeResult as InitializeResultSchema,
  type RpcInitializeResult,
  type RpcParams,
  type RpcRequestMethod,
  type RpcResult,
  rpcRequests,
  rpcServerNotifications,
  type ScheduleRunNotification,
  type SessionEventNotification,
} from '@switchboard/protocol';
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  type MessageTransports,
  ResponseError,
  RevealOutputChannelOn,
  State,
  WorkDoneProgress,
} from 'vscode-languageclient/node';
import WebSocket from 'ws';
import { rpcUrl } from '../config.js';
import { nextDelay } from './backoff.js';
import { WebSocketMessageReader, WebSocketMessageWriter } from './ws-transport.js';

/** An error from the control plane (or from reaching it), with our stable code and a sentence for people. */
export class RpcError extends Error {
  constructor(
    message: string,
    readonly code: ErrorCode | 'DISCONNECTED',
    readonly details?: Record<string, unknown>,
    /** The JSON-RPC error code, e.g. -32601 when the server is older than the extension. */
    readonly jsonrpcCode?: number,
  ) {
    super(message);
  }
}

export function toRpcError(error: unknown): RpcError {
  if (error instanceof RpcError) return error;
  if (error instanceof ResponseError) {
    const data = (error.data ?? {}) as Record<string, unknown>;
    const code = ErrorCode.safeParse(data.code);
    return new RpcError(error.message, code.success ? code.data : 'INTERNAL', data, error.code);
  }
  return new RpcError((error as Error)?.message ?? String(error), 'DISCONNECTED');
}

class Unauthorized extends Error {}

/** The LanguageClient logs its own failures to our channel; the extension shows people what to do, once. */
class QuietLanguageClient extends LanguageClient {
  override error(message: string, data?: unknown): void {
    super.error(message, data, false);
  }
}

/**
 * The one connection to the control plane: a LanguageClient whose transport is a WebSocket to
 * `/rpc`. It reconnects on its own with backoff (the backoff lives in the transport factory, which
 * a restart calls once), except after a 401: then the user must sign in again.
 */
export class SwitchboardClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;
  private current: ConnectionState = 'signed-out';
  private connectedOnce = false;
  private readonly stateChanged = new vscode.EventEmitter<{ state: ConnectionState; detail?: string }>();
  private readonly connected = new vscode.EventEmitter<RpcInitializeResult['user']>();
  private readonly sessionEvent = new vscode.EventEmitter<SessionEventNotification>();
  private readonly resubscribe = new vscode.EventEmitter<{ sessionId: string; lastSeq: number }>();
  private readonly budgetUpdated = new vscode.EventEmitter<RpcResult<'budget/get'>>();
  private readonly budgetAlert = new vscode.EventEmitter<BudgetAlertNotification>();
  private readonly unauthorized = new vscode.EventEmitter<void>();
  private readonly scheduleRun = new vscode.EventEmitter<ScheduleRunNotification>();
  readonly onDidChangeState = this.stateChanged.event;
  /** Fires after every (re)connect, once `initialize` completed: resubscribe here. */
  readonly onDidConnect = this.connected.event;
  readonly onSessionEvent = this.sessionEvent.event;
  readonly onResubscribe = this.resubscribe.event;
  readonly onBudgetUpdated = this.budgetUpdated.event;
  readonly onBudgetAlert = this.budgetAlert.event;
  readonly onUnauthorized = this.unauthorized.event;
  /** One of the user's scheduled runs ended (or a slot was skipped). */
  readonly onScheduleRun = this.scheduleRun.event;
  user: RpcInitializeResult['user'] | undefined;

  constructor(private readonly output: vscode.LogOutputChannel) {}

  get state(): ConnectionState {
    return this.current;
  }

  private setState(state: ConnectionState, detail?: string) {
    if (state === this.current && !detail) return;
    this.current = state;
    this.stateChanged.fire(detail ? { state, detail } : { state });
  }

  /** Connects; the server URL is read again on every attempt, so a changed setting applies at the next reconnect. */
  async start(serverUrl: () => string, token: string): Promise<void> {
    await this.stop();
    this.stopping = false;
    this.connectedOnce = false;
    this.setState('connecting');
    const client = new QuietLanguageClient('switchboard', 'Switchboard', () => this.transports(serverUrl, token), {
      documentSelector: [],
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationFailedHandler: (error) => {
        this.output.error(`Switchboard refused the connection: ${error.message}`);
        return false;
      },
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue, handled: true }),
        closed: () => ({ action: this.stopping ? CloseAction.DoNotRestart : CloseAction.Restart, handled: true }),
      },
    });
    this.client = client;
    client.onDidChangeState((change) => {
      if (this.client !== client) return;
      if (change.newState === State.Running) {
        const parsed = InitializeResultSchema.safeParse(client.initializeResult);
        if (!parsed.success) {
          this.output.error('The server at this URL answered initialize, but not like a Switchboard control plane.');
          return;
        }
        this.user = parsed.data.user;
        this.connectedOnce = true;
        this.setState('connected');
        this.connected.fire(parsed.data.user);
      } else if (change.newState === State.Starting && this.connectedOnce && !this.stopping) this.setState('reconnecting');
    });
    this.listen(client);
    try {
      await client.start();
    } catch (error) {
      if (this.stopping) return;
      if (error instanceof Unauthorized || (error as Error)?.message?.includes('401')) return;
      this.output.error(`Could not start the Switchboard connection: ${(error as Error).message}`);
    }
  }

  private listen(client: LanguageClient) {
    const parsed =
      <T>(method: keyof typeof rpcServerNotifications, emit: (value: T) => void) =>
      (params: unknown) => {
        const result = rpcServerNotifications[method].safeParse(params);
        if (result.success) emit(result.data as T);
        else this.output.warn(`Ignored a malformed ${method} notification from the server.`);
      };
    client.onNotification(
      'session/event',
      parsed<SessionEventNotification>('session/event', (event) => this.sessionEvent.fire(event)),
    );
    client.onNotification(
      'session/resubscribe',
      parsed('session/resubscribe', (notice: { sessionId: string; lastSeq: number }) => this.resubscribe.fire(notice)),
    );
    client.onNotification(
      'budget/updated',
      parsed('budget/updated', (update: RpcResult<'budget/get'>) => this.budgetUpdated.fire(update)),
    );
    client.onNotification(
      'budget/alert',
      parsed('budget/alert', (alert: BudgetAlertNotification) => this.budgetAlert.fire(alert)),
    );
    client.onNotification(
      'schedule/run',
      parsed('schedule/run', (run: ScheduleRunNotification) => this.scheduleRun.fire(run)),
    );
  }

  /** Opens the WebSocket, retrying with backoff until it opens, the client stops, or the token is refused. */
  private async transports(serverUrlOf: () => string, token: string): Promise<MessageTransports> {
    for (let attempt = 0; ; attempt += 1) {
      if (this.stopping) throw new Error('The Switchboard connection was stopped.');
      const serverUrl = serverUrlOf();
      try {
        const socket = await openSocket(rpcUrl(serverUrl), token);
        socket.on('close', (code, reason) =>
          this.output.info(`Connection closed (${code}${reason.length ? `: ${reason.toString()}` : ''}).`),
        );
        return {
          reader: new WebSocketMessageReader(socket, (reason) => this.output.warn(`Switchboard connection: ${reason}`)),
          writer: new WebSocketMessageWriter(socket),
          detached: false,
        };
      } catch (error) {
        if (error instanceof Unauthorized) {
          this.stopping = true;
          this.setState('signed-out', 'Your token was refused (revoked or expired). Sign in again.');
          this.unauthorized.fire();
          throw error;
        }
        const delay = nextDelay(attempt);
        this.setState(
          this.connectedOnce ? 'reconnecting' : 'connecting',
          `${(error as Error).message}; retrying in ${Math.round(delay / 1000)} s`,
        );
        this.output.warn(`Cannot reach ${serverUrl}: ${(error as Error).message}. Retrying in ${Math.round(delay / 1000)} s.`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }

  /** Skips the current backoff wait (the user asked to reconnect now). */
  retryNow(): void {
    this.wake?.();
  }

  async request<M extends RpcRequestMethod>(method: M, params: RpcParams<M>, token?: vscode.CancellationToken): Promise<RpcResult<M>> {
    const client = this.client;
    if (!client || this.current === 'signed-out')
      throw new RpcError('Sign in to Switchboard first (Switchboard: Sign In).', 'UNAUTHORIZED');
    let raw: unknown;
    try {
      raw = token ? await client.sendRequest(method, params, token) : await client.sendRequest(method, params);
    } catch (error) {
      throw toRpcError(error);
    }
    const parsed = rpcRequests[method].result.safeParse(raw);
    if (!parsed.success)
      throw new RpcError(`The control plane answered ${method} in an unexpected shape; is the extension up to date?`, 'INTERNAL');
    return parsed.data as RpcResult<M>;
  }

  /**
   * A request that may wait on the server (a runtime still starting): the server's `$/progress`
   * messages for it reach `onProgress`, e.g. a VS Code progress notification.
   */
  async requestWithProgress<M extends 'session/create' | 'session/prompt'>(
    method: M,
    params: RpcParams<M>,
    onProgress: (message: string) => void,
  ): Promise<RpcResult<M>> {
    const client = this.client;
    const workDoneToken = `switchboard-${randomUUID()}`;
    const listener = client?.onProgress(WorkDoneProgress.type, workDoneToken, (value) => {
      if (value.kind !== 'end' && value.message) onProgress(value.message);
    });
    try {
      return await this.request(method, { ...params, workDoneToken } as RpcParams<M>);
    } finally {
      listener?.dispose();
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    const client = this.client;
    this.client = undefined;
    this.user = undefined;
    if (client) {
      await client.stop(2000).catch(() => {});
      await client.dispose().catch(() => {});
    }
    this.setState('signed-out');
  }

  dispose(): void {
    void this.stop();
    for (const emitter of [
      this.stateChanged,
      this.connected,
      this.sessionEvent,
      this.resubscribe,
      this.budgetUpdated,
      this.budgetAlert,
      this.unauthorized,
      this.scheduleRun,
    ])
      emitter.dispose();
  }
}

function openSocket(url: string, token: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, {
      headers: { authorization: `Bearer ${token}` },
      handshakeTimeout: 10_000,
      maxPayload: 16 * 1024 * 1024,
    });
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_request, response) => {
      socket.terminate();
      if (response.statusCode === 401) reject(new Unauthorized('The control plane refused the token (401).'));
      else reject(new Error(`the control plane answered HTTP ${response.statusCode}`));
    });
    socket.once('error', (error) => reject(error));
  });
}
