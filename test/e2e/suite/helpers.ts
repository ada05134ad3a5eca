// Shared by the *.e2e.ts files (each is bundled on its own, so nothing here holds state).
import * as vscode from 'vscode';

export const EXTENSION_ID = 'switchboard.switchboard-vscode';

export interface ContributedCommand {
  command: string;
  title: string;
  category?: string;
}

export function switchboardExtension(): vscode.Extension<unknown> {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  if (!extension) throw new Error(`${EXTENSION_ID} is not loaded in this extension host`);
  return extension;
}

/** Activates the extension (a no-op when already active) and returns what `activate` returned. */
export async function activateExtension<Api = unknown>(): Promise<Api> {
  return (await switchboardExtension().activate()) as Api;
}

/** `contributes.commands` of the extension's package.json, as VS Code read it at startup. */
export function contributedCommands(): ContributedCommand[] {
  const manifest = switchboardExtension().packageJSON as { contributes?: { commands?: ContributedCommand[] } };
  return manifest.contributes?.commands ?? [];
}

/** Polls `probe` until it returns something other than undefined, null or false. */
export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
