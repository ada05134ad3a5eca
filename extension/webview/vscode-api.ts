import { WebviewToHost } from '@switchboard/protocol';
import { z } from 'zod';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

/** What survives the webview being destroyed and recreated (hidden sidebar, moved tab). */
export const SavedState = z.object({
  sessionId: z.string().nullable(),
  draft: z.string().max(200_000),
  scrollTop: z.number().nonnegative(),
  atBottom: z.boolean(),
});
export type SavedState = z.infer<typeof SavedState>;

export interface HostChannel {
  /** Parses and posts; false (and a console warning) when the message is not a valid `WebviewToHost`. */
  send(message: WebviewToHost): boolean;
  saved: SavedState | null;
  save(state: SavedState): void;
}

export function connectToHost(): HostChannel {
  const api = acquireVsCodeApi();
  const restored = SavedState.safeParse(api.getState());
  return {
    send(message) {
      const parsed = WebviewToHost.safeParse(message);
      if (!parsed.success) {
        console.warn(`Switchboard: not sending an invalid ${message.type} message`, z.prettifyError(parsed.error));
        return false;
      }
      api.postMessage(parsed.data);
      return true;
    },
    saved: restored.success ? restored.data : null,
    save(state) {
      api.setState(state);
    },
  };
}
