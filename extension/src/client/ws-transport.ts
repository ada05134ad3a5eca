import { AbstractMessageReader, AbstractMessageWriter, type DataCallback, type Disposable, type Message } from 'vscode-languageclient/node';
import type WebSocket from 'ws';

/** Largest frame the extension accepts from the control plane; anything bigger is a bug or an attack. */
const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/**
 * JSON-RPC messages over one WebSocket, one message per text frame. The reader reports a closed
 * socket as *close* only, never as an error: the client then restarts once instead of racing a
 * shutdown against a restart.
 */
export class WebSocketMessageReader extends AbstractMessageReader {
  private callback: DataCallback | undefined;
  private readonly pending: Message[] = [];

  constructor(socket: WebSocket, onBadFrame: (reason: string) => void) {
    super();
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary || data.length > MAX_FRAME_BYTES) return onBadFrame(`dropped a ${isBinary ? 'binary' : 'oversized'} frame`);
      let message: Message;
      try {
        message = JSON.parse(data.toString('utf8')) as Message;
      } catch {
        return onBadFrame('dropped a frame that is not JSON');
      }
      if (this.callback) this.callback(message);
      else this.pending.push(message);
    });
    socket.on('close', () => this.fireClose());
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    for (const message of this.pending.splice(0)) callback(message);
    return { dispose: () => (this.callback = undefined) };
  }
}

export class WebSocketMessageWriter extends AbstractMessageWriter {
  constructor(private readonly socket: WebSocket) {
    super();
  }

  async write(message: Message): Promise<void> {
    if (this.socket.readyState !== this.socket.OPEN) throw new Error('The connection to Switchboard is closed.');
    await new Promise<void>((resolve, reject) => this.socket.send(JSON.stringify(message), (error) => (error ? reject(error) : resolve())));
  }

  end(): void {}
}
