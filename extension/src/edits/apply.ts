import type { ChangedFile } from '@switchboard/protocol';
import * as vscode from 'vscode';
import type { SwitchboardClient } from '../client/switchboard-client.js';
import { classify } from './classify.js';
import { readLocal, sha256, writableUri } from './local-files.js';
import { RefusedPathError, refusedPaths } from './workspace-path.js';

export interface ApplyResult {
  applied: string[];
  /** Changed locally since the upload: left alone. */
  conflicts: string[];
  /** Already identical to the agent's version. */
  unchanged: string[];
}

const isText = (bytes: Uint8Array) => !bytes.includes(0) && isUtf8(bytes);

function isUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Every path is checked before anything is written: a control plane that names one file outside the
 * folder is not trusted with the others either, so nothing is applied and the person is told which.
 */
async function checkedTargets(folder: vscode.Uri, changes: readonly ChangedFile[]): Promise<{ change: ChangedFile; uri: vscode.Uri }[]> {
  const refused: RefusedPathError[] = [];
  const targets: { change: ChangedFile; uri: vscode.Uri }[] = [];
  for (const change of changes) {
    try {
      targets.push({ change, uri: await writableUri(folder, change.path) });
    } catch (error) {
      if (!(error instanceof RefusedPathError)) throw error;
      refused.push(error);
    }
  }
  const [first] = refused;
  if (!first) return targets;
  if (refused.length === 1) throw new Error(`${first.message} Nothing was applied.`);
  throw new Error(
    `Switchboard refused ${refused.length} paths from the control plane that lead outside the folder (${refusedPaths(refused)}). Nothing was applied.`,
  );
}

/**
 * Applies the agent's version of the chosen files to the local folder as ONE WorkspaceEdit (so one
 * undo reverts it), never touching a file that changed locally since the session's upload.
 */
export async function applyChanges(
  client: SwitchboardClient,
  sessionId: string,
  folder: vscode.Uri,
  changes: readonly ChangedFile[],
  progress?: vscode.Progress<{ message?: string; increment?: number }>,
): Promise<ApplyResult> {
  const targets = await checkedTargets(folder, changes);
  const result: ApplyResult = { applied: [], conflicts: [], unchanged: [] };
  const edit = new vscode.WorkspaceEdit();
  const textEdited: vscode.Uri[] = [];
  for (const [index, { change, uri }] of targets.entries()) {
    progress?.report({ message: `${change.path} (${index + 1}/${changes.length})`, increment: 100 / Math.max(1, changes.length) });
    const local = await readLocal(uri);
    const state = classify(change, local ? sha256(local) : null);
    if (state.applied) {
      result.unchanged.push(change.path);
      continue;
    }
    if (state.conflict) {
      result.conflicts.push(change.path);
      continue;
    }
    if (change.status === 'deleted') {
      edit.deleteFile(uri, { ignoreIfNotExists: true });
      result.applied.push(change.path);
      continue;
    }
    const file = await client.request('session/file', { sessionId, path: change.path });
    if (file.content === null) {
      result.conflicts.push(change.path);
      continue;
    }
    const bytes = Buffer.from(file.content, 'base64');
    if (change.status === 'added' || !local || !isText(bytes)) {
      edit.createFile(uri, { contents: bytes, overwrite: change.status !== 'added' });
    } else {
      const document = await vscode.workspace.openTextDocument(uri);
      const whole = new vscode.Range(document.positionAt(0), document.positionAt(document.getText().length));
      edit.replace(uri, whole, new TextDecoder().decode(bytes));
      textEdited.push(uri);
    }
    result.applied.push(change.path);
  }
  if (result.applied.length === 0) return result;
  const ok = await vscode.workspace.applyEdit(edit, { isRefactoring: true });
  if (!ok) throw new Error('VS Code refused the edit (a file may be read-only or locked). Nothing was changed.');
  for (const uri of textEdited) {
    const document = await vscode.workspace.openTextDocument(uri);
    if (document.isDirty) await document.save();
  }
  return result;
}
