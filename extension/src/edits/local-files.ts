import { createHash } from 'node:crypto';
import type { ChangedFile, ChatChange } from '@switchboard/protocol';
import * as vscode from 'vscode';
import { classify } from './classify.js';

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The local copy as the user sees it: an open editor's text (saved or not), else the file on disk, else null. */
export async function readLocal(uri: vscode.Uri): Promise<Uint8Array | null> {
  const open = vscode.workspace.textDocuments.find((document) => document.uri.toString() === uri.toString());
  if (open) return new TextEncoder().encode(open.getText());
  try {
    return await vscode.workspace.fs.readFile(uri);
  } catch (error) {
    if (error instanceof vscode.FileSystemError && error.code === 'FileNotFound') return null;
    throw error;
  }
}

export function localUri(folder: vscode.Uri, relative: string): vscode.Uri {
  return vscode.Uri.joinPath(folder, ...relative.split('/'));
}

export async function classifyAll(folder: vscode.Uri, changes: readonly ChangedFile[]): Promise<ChatChange[]> {
  return Promise.all(
    changes.map(async (change) => {
      const local = await readLocal(localUri(folder, change.path));
      return classify(change, local ? sha256(local) : null);
    }),
  );
}
