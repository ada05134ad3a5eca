import * as vscode from 'vscode';
import { z } from 'zod';

const Settings = z.object({
  serverUrl: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).transform((value) => value.replace(/\/+$/, '')),
  uploadLimitMiB: z.number().int().min(1).max(2048),
});
export type Settings = z.infer<typeof Settings>;

export const DEFAULT_SERVER_URL = 'http://127.0.0.1:7420';

/** The extension's settings, checked: a bad value falls back to the default with a message naming it. */
export function readSettings(onProblem: (message: string) => void): Settings {
  const section = vscode.workspace.getConfiguration('switchboard');
  const raw = {
    serverUrl: section.get<string>('serverUrl', DEFAULT_SERVER_URL),
    uploadLimitMiB: section.get<number>('uploadLimitMiB', 50),
  };
  const parsed = Settings.safeParse(raw);
  if (parsed.success) return parsed.data;
  onProblem(`Switchboard settings: ${z.prettifyError(parsed.error)}. Using the defaults; fix it in Settings → Switchboard.`);
  return Settings.parse({ serverUrl: DEFAULT_SERVER_URL, uploadLimitMiB: 50 });
}

/** `http://host:7420` → `ws://host:7420/rpc` */
export function rpcUrl(serverUrl: string): string {
  return `${serverUrl.replace(/^http/, 'ws')}/rpc`;
}
