import type { ChangedFile, ChatChange } from '@switchboard/protocol';
import * as vscode from 'vscode';
import { type SwitchboardClient, toRpcError } from '../client/switchboard-client.js';
import type { SessionStore } from '../sessions/session-store.js';
import { classifyAll } from './local-files.js';
import { containedPath, RefusedPathError, refusedPaths } from './workspace-path.js';

const REFRESH_DELAY_MS = 400;
const FOLDERS_KEY = 'switchboard.sessionFolders';

export interface SessionChanges {
  sessionId: string;
  remote: ChangedFile[];
  files: ChatChange[];
  truncated: boolean;
}

/**
 * What each shown session's agent changed, compared with the local folder the session came from.
 * Refreshed when a turn edits files or ends (bash can write files no tool event names) and when
 * a local file is saved.
 */
export class ChangesTracker implements vscode.Disposable {
  private readonly latest = new Map<string, SessionChanges>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly changed = new vscode.EventEmitter<SessionChanges>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly warned = new Set<string>();
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly client: SwitchboardClient,
    store: SessionStore,
    private readonly state: vscode.Memento,
    private readonly output: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      store.onEvents(({ sessionId, events }) => {
        const touchesFiles = events.some(
          (item) =>
            item.event.type === 'file.edited' ||
            (item.event.type === 'tool.updated' && item.event.state === 'completed') ||
            (item.event.type === 'status' && item.event.status === 'idle'),
        );
        if (touchesFiles && this.latest.has(sessionId)) this.schedule(sessionId);
      }),
      // A saved local file can turn a change into a conflict (or settle one): re-check the sessions
      // whose folder holds it, not every session on screen.
      vscode.workspace.onDidSaveTextDocument((document) => {
        const saved = document.uri.toString();
        for (const sessionId of this.latest.keys()) {
          const folder = this.folderFor(sessionId)?.toString();
          if (folder && saved.startsWith(`${folder}/`)) this.schedule(sessionId);
        }
      }),
    );
  }

  /** The local folder a session's files map to: where it was started from, else the first workspace folder. */
  folderFor(sessionId: string): vscode.Uri | undefined {
    const saved = this.state.get<Record<string, string>>(FOLDERS_KEY, {})[sessionId];
    if (saved) return vscode.Uri.parse(saved);
    return vscode.workspace.workspaceFolders?.[0]?.uri;
  }

  async rememberFolder(sessionId: string, folder: vscode.Uri): Promise<void> {
    const all = { ...this.state.get<Record<string, string>>(FOLDERS_KEY, {}), [sessionId]: folder.toString() };
    const entries = Object.entries(all).slice(-500);
    await this.state.update(FOLDERS_KEY, Object.fromEntries(entries));
  }

  get(sessionId: string): SessionChanges | undefined {
    return this.latest.get(sessionId);
  }

  schedule(sessionId: string): void {
    clearTimeout(this.timers.get(sessionId));
    this.timers.set(
      sessionId,
      setTimeout(() => {
        this.timers.delete(sessionId);
        void this.refresh(sessionId);
      }, REFRESH_DELAY_MS),
    );
  }

  async refresh(sessionId: string): Promise<SessionChanges | undefined> {
    const folder = this.folderFor(sessionId);
    try {
      const answer = await this.client.request('session/changes', { sessionId });
      const files = this.withoutRefused(sessionId, answer.files, folder);
      const { truncated } = answer;
      const classified = folder
        ? await classifyAll(folder, files)
        : files.map((file) => ({ path: file.path, status: file.status, conflict: false, applied: false }));
      const result = { sessionId, remote: files, files: classified, truncated };
      this.latest.set(sessionId, result);
      this.changed.fire(result);
      return result;
    } catch (error) {
      this.output.warn(`Could not list the changes of session ${sessionId}: ${toRpcError(error).message}`);
      return this.latest.get(sessionId);
    }
  }

  /** Drops the files whose paths lead outside the folder, and tells the person once per session and path. */
  private withoutRefused(sessionId: string, files: ChangedFile[], folder: vscode.Uri | undefined): ChangedFile[] {
    const refused: RefusedPathError[] = [];
    const kept = files.filter((file) => {
      const contained = containedPath(folder?.path ?? '/', file.path);
      if (!contained.ok) refused.push(new RefusedPathError(file.path, contained.reason));
      return contained.ok;
    });
    const unseen = refused.filter((error) => !this.warned.has(`${sessionId}\u0000${error.path}`));
    for (const error of unseen) {
      this.warned.add(`${sessionId}\u0000${error.path}`);
      this.output.error(error.message);
    }
    const [first] = unseen;
    if (first) {
      void vscode.window.showErrorMessage(
        unseen.length === 1
          ? `${first.message} It is left out of the session's changes.`
          : `Switchboard refused ${unseen.length} paths from the control plane that lead outside the folder (${refusedPaths(unseen)}). They are left out of the session's changes.`,
      );
    }
    return kept;
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    for (const disposable of this.disposables) disposable.dispose();
    this.changed.dispose();
  }
}
