import { createHash } from 'node:crypto';
import type { ChangedFile, ChatChange } from '@switchboard/protocol';
import * as vscode from 'vscode';
import { classify } from './classify.js';
import { linkEscape } from './real-path.js';
import { containedPath, RefusedPathError } from './workspace-path.js';

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

/** The local file a path from the control plane names; throws `RefusedPathError` for one that leaves the folder. */
export function localUri(folder: vscode.Uri, relative: string): vscode.Uri {
  const contained = containedPath(folder.path, relative);
  if (!contained.ok) throw new RefusedPathError(relative, contained.reason);
  return vscode.Uri.joinPath(folder, ...contained.segments);
}

/**
 * `localUri`, and on disk as well: the deepest part of the path that exists, links resolved, must
 * still be inside the folder, so a symbolic link in the workspace cannot carry a write outside it.
 * (Only for local folders: a remote one is checked by its path alone.)
 */
export async function writableUri(folder: vscode.Uri, relative: string): Promise<vscode.Uri> {
  const uri = localUri(folder, relative);
  if (folder.scheme !== 'file') return uri;
  const outside = await linkEscape(folder.fsPath, uri.fsPath);
  if (outside) throw new RefusedPathError(relative, outside);
  return uri;
}

export async function classifyAll(folder: vscode.Uri, changes: readonly ChangedFile[]): Promise<ChatChange[]> {
  return Promise.all(
    changes.map(async (change) => {
      const local = await readLocal(localUri(folder, change.path));
      return classify(change, local ? sha256(local) : null);
    }),
  );
}
