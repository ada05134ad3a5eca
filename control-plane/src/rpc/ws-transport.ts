import { AbstractMessageReader, AbstractMessageWriter, type DataCallback, type Disposable, type Message } from 'vscode-jsonrpc/node';
import type { WebSocket } from 'ws';

/**
 * JSON-RPC over one WebSocket: one message per text frame, no Content-Length headers. The reader
 * fires `close` (never `error`) when the socket closes, so the client's restart logic stays simple.
 * `admit` sees every parsed message first and may drop it (flood control).
 */
export class WebSocketMessageReader extends AbstractMessageReader {
  private callback: DataCallback | undefined;

  constructor(
    socket: WebSocket,
    private readonly admit: (message: Message) => boolean,
    private readonly onInvalid: (reason: string) => void,
  ) {
    super();
    socket.on('message', (data, isBinary) => {
      if (isBinary) return this.onInvalid('Binary frames are not JSON-RPC; send text frames.');
      let message: unknown;
      try {
        message = JSON.parse(data.toString());
      } catch {
        return this.onInvalid('The frame is not valid JSON.');
      }
      if (typeof message !== 'object' || message === null || (message as { jsonrpc?: unknown }).jsonrpc !== '2.0') {
        return this.onInvalid('The frame is not a JSON-RPC 2.0 message.');
      }
      if (this.admit(message as Message)) this.callback?.(message as Message);
    });
    socket.on('close', () => this.fireClose());
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    return { dispose: () => (this.callback = undefined) };
  }
}

export class WebSocketMessageWriter extends AbstractMessageWriter {
  constructor(private readonly socket: WebSocket) {
    super();
  }

  async write(message: Message): Promise<void> {
    if (this.socket.readyState !== this.socket.OPEN) return;
    this.socket.send(JSON.stringify(message));
  }

  end(): void {}
}
