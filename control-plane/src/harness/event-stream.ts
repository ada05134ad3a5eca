import { StringDecoder } from 'node:string_decoder';
import { request } from 'undici';

/** A single event larger than this is dropped rather than held (a tool result is clipped long before). */
const MAX_EVENT = 8 * 1024 * 1024;

/**
 * Holds the ONE event subscription of a harness process (`GET /global/event`): OpenCode keeps a
 * queue per subscriber, so one subscription per process keeps its memory bounded. Each JSON event
 * is handed to `onEvent`; the stream reconnects until `stop()`.
 */
export function subscribeEvents(options: {
  url: string;
  authorization: string;
  onEvent: (event: unknown) => void;
  onConnected?: () => void;
  onError?: (error: Error) => void;
  retryMs?: number;
}) {
  const controller = new AbortController();
  let stopped = false;

  async function run(): Promise<void> {
    while (!stopped) {
      try {
        const response = await request(options.url, {
          method: 'GET',
          headers: { authorization: options.authorization, accept: 'text/event-stream' },
          signal: controller.signal,
          headersTimeout: 15_000,
          bodyTimeout: 0,
        });
        if (response.statusCode !== 200) throw new Error(`event stream answered ${response.statusCode}`);
        options.onConnected?.();
        const decoder = new StringDecoder('utf8');
        let buffer = '';
        for await (const chunk of response.body) {
          buffer += decoder.write(chunk as Buffer);
          let boundary = buffer.indexOf('\n\n');
          while (boundary !== -1) {
            const block = buffer.slice(0, boundary);
            buffer = buffer.slice(boundary + 2);
            const data = block
              .split('\n')
              .filter((line) => line.startsWith('data:'))
              .map((line) => line.slice(line.charAt(5) === ' ' ? 6 : 5))
              .join('\n');
            if (data) {
              try {
                options.onEvent(JSON.parse(data));
              } catch {
                // A malformed event is skipped; the next one is independent.
              }
            }
            boundary = buffer.indexOf('\n\n');
          }
          if (buffer.length > MAX_EVENT) buffer = '';
        }
        if (!stopped) throw new Error('event stream ended');
      } catch (error) {
        if (stopped) return;
        options.onError?.(error as Error);
        await new Promise((resolve) => setTimeout(resolve, options.retryMs ?? 500));
      }
    }
  }

  const done = run();
  return {
    async stop() {
      stopped = true;
      controller.abort();
      await done.catch(() => {});
    },
  };
}
