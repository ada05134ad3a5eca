import type { Budget, Session } from '@switchboard/protocol';
import * as vscode from 'vscode';
import { pickAgent } from './agents.js';
import { budgetLine, formatDollars } from './budget-format.js';
import type { ChatViews } from './chat/chat-views.js';
import { SignInError, type TokenStore } from './client/auth.js';
import { RpcError, type SwitchboardClient, toRpcError } from './client/switchboard-client.js';
import type { Settings } from './config.js';
import { openDiff } from './edits/agent-documents.js';
import { applyChanges } from './edits/apply.js';
import type { ChangesTracker } from './edits/changes-tracker.js';
import type { SessionStore } from './sessions/session-store.js';
import { UploadError, uploadFolder } from './sessions/upload.js';

export interface ActionDeps {
  client: SwitchboardClient;
  tokens: TokenStore;
  store: SessionStore;
  changes: ChangesTracker;
  chat: ChatViews;
  settings: () => Settings;
  output: vscode.LogOutputChannel;
  lastEditor: () => vscode.TextEditor | undefined;
  /** A budget refused the user's prompt up front (the error's `details.budget`). */
  budgetRefused: (details: unknown) => void;
}

export interface NewSessionOptions {
  title?: string;
  /** `upload`: the folder's git files; `empty`: nothing. Asked when left out. */
  source?: 'upload' | 'empty';
  folder?: vscode.Uri;
  /** A team agent's name (or the built-in `build`); asked when left out and agents exist. */
  agent?: string;
  /** Show it in the chat sidebar (default true). */
  show?: boolean;
}

/** What the commands and the chat views do, each with the feedback a person needs when it fails. */
export class Actions {
  constructor(private readonly deps: ActionDeps) {}

  async signIn(token?: string): Promise<boolean> {
    const { serverUrl } = this.deps.settings();
    const value =
      token ??
      (await vscode.window.showInputBox({
        title: `Sign in to Switchboard (${serverUrl})`,
        prompt: 'Paste your API token. An admin creates one with "switchboard admin token create".',
        placeHolder: 'sb_…',
        password: true,
        ignoreFocusOut: true,
      }));
    if (!value) return false;
    try {
      const me = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Switchboard: checking your token…' },
        () => this.deps.tokens.signIn(serverUrl, value),
      );
      void vscode.window.showInformationMessage(`Signed in to Switchboard as ${me.user.displayName} (${me.user.email}).`);
      return true;
    } catch (error) {
      const message = error instanceof SignInError ? error.message : `Sign-in failed: ${(error as Error).message}`;
      this.deps.output.error(message);
      void vscode.window.showErrorMessage(message);
      return false;
    }
  }

  async signOut(): Promise<void> {
    await this.deps.tokens.signOut();
    void vscode.window.showInformationMessage('Signed out of Switchboard. Your sessions stay on the server.');
  }

  private async requireConnection(): Promise<void> {
    if (this.deps.client.state !== 'signed-out') return;
    const choice = await vscode.window.showWarningMessage('Sign in to Switchboard first.', 'Sign In');
    if (choice === 'Sign In') await this.signIn();
    if (this.deps.client.state === 'signed-out') throw new RpcError('Not signed in to Switchboard.', 'UNAUTHORIZED');
  }

  async newSession(options: NewSessionOptions = {}): Promise<Session | undefined> {
    await this.requireConnection();
    const folder = options.folder ?? vscode.workspace.workspaceFolders?.[0]?.uri;
    const suggested = `${folder ? `${vscode.workspace.asRelativePath(folder, false) || 'workspace'}: ` : ''}${new Date().toLocaleString()}`;
    const title =
      options.title ??
      (await vscode.window.showInputBox({ title: 'New agent session', prompt: 'A title for the session', value: suggested }));
    if (!title) return undefined;
    const agent = options.agent ?? (await pickAgent(this.deps.client));
    if (!agent) return undefined;
    let source = options.source;
    if (!source) {
      if (folder?.scheme !== 'file') source = 'empty';
      else {
        const picked = await vscode.window.showQuickPick(
          [
            { label: `Upload ${folder.fsPath}`, description: 'git-tracked and new, non-ignored files', source: 'upload' as const },
            { label: 'Empty workspace', description: 'the agent starts from nothing', source: 'empty' as const },
          ],
          { title: 'Start the agent from…' },
        );
        if (!picked) return undefined;
        source = picked.source;
      }
    }
    const session = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Switchboard', cancellable: true },
      async (progress, cancel) => {
        let workspace: { kind: 'empty' } | { kind: 'upload'; uploadId: string } = { kind: 'empty' };
        if (source === 'upload' && folder) {
          const token = await this.deps.tokens.get();
          if (!token) throw new RpcError('Not signed in to Switchboard.', 'UNAUTHORIZED');
          const { serverUrl, uploadLimitMiB } = this.deps.settings();
          const upload = await uploadFolder(
            { serverUrl, token, folder: folder.fsPath, limitBytes: uploadLimitMiB * 1048576 },
            progress,
            cancel,
          );
          workspace = { kind: 'upload', uploadId: upload.id };
        }
        progress.report({ message: 'Starting the agent…' });
        return this.deps.client.requestWithProgress('session/create', { title, workspace, agent }, (message) =>
          progress.report({ message }),
        );
      },
    );
    if (folder) await this.deps.changes.rememberFolder(session.id, folder);
    this.deps.store.upsert(session);
    if (options.show !== false) await this.deps.chat.show(session.id);
    return session;
  }

  /** `onProgress` hears the server's waits (a runtime still starting) while the prompt is taken. */
  async prompt(sessionId: string, text: string, onProgress?: (message: string) => void): Promise<void> {
    try {
      if (onProgress) await this.deps.client.requestWithProgress('session/prompt', { sessionId, text }, onProgress);
      else await this.deps.client.request('session/prompt', { sessionId, text });
    } catch (error) {
      const failure = toRpcError(error);
      if (failure.code === 'BUDGET_EXCEEDED') this.deps.budgetRefused(failure.details?.budget);
      throw failure;
    }
  }

  async abort(sessionId: string | undefined = this.deps.chat.currentSession): Promise<void> {
    if (!sessionId) return void vscode.window.showInformationMessage('No Switchboard session is open.');
    const { aborted } = await this.deps.client.request('session/abort', { sessionId });
    if (!aborted) void vscode.window.showInformationMessage('The agent was not running.');
  }

  async replyPermission(sessionId: string, permissionId: string, reply: 'once' | 'always' | 'reject'): Promise<void> {
    await this.deps.client.request('permission/reply', { sessionId, permissionId, reply });
  }

  async replyQuestion(sessionId: string, questionId: string, answers: string[][] | null): Promise<void> {
    await this.deps.client.request('question/reply', { sessionId, questionId, answers });
  }

  async openSession(sessionId?: string): Promise<void> {
    await this.requireConnection();
    let id = sessionId;
    if (!id) {
      const { items } = await this.deps.client.request('session/list', { includeTeam: true });
      const me = this.deps.client.user?.id;
      const picked = await vscode.window.showQuickPick(
        items.map((session) => ({
          label: session.title,
          description: `${session.status} · ${session.model}${session.userId === me ? '' : ' · shared'}`,
          detail: `Updated ${new Date(session.updatedAt).toLocaleString()}`,
          id: session.id,
        })),
        { title: 'Open a Switchboard session', placeHolder: items.length ? 'Your sessions and your teams’ sessions' : 'No sessions yet' },
      );
      id = picked?.id;
    }
    if (id) await this.deps.chat.show(id);
  }

  async openInEditor(sessionId: string | undefined = this.deps.chat.currentSession): Promise<void> {
    if (!sessionId) return this.openSession();
    const session = await this.deps.store.follow(sessionId);
    await this.deps.chat.openInEditor(sessionId, session.title);
  }

  async showBudget(): Promise<void> {
    await this.requireConnection();
    const { budgets } = await this.deps.client.request('budget/get', {});
    if (budgets.length === 0) return void vscode.window.showInformationMessage('No budget limits apply to you.');
    await vscode.window.showQuickPick(
      budgets.map((budget: Budget) => ({
        label: `${budget.scope === 'team' ? 'Team' : 'Your'} ${budget.period} budget`,
        description: budgetLine(budget),
        detail: `${formatDollars(Math.max(0, budget.limitMicros - budget.spentMicros - budget.reservedMicros))} left · ${formatDollars(budget.reservedMicros)} held by running calls · alert at ${budget.softAlertPct}%${budget.periodEnd ? ` · resets ${new Date(budget.periodEnd).toLocaleDateString()}` : ''}`,
      })),
      { title: 'Switchboard budgets', placeHolder: 'Spent / limit; ask an admin to raise a limit' },
    );
  }

  async openDiff(sessionId: string, path: string): Promise<void> {
    const folder = this.deps.changes.folderFor(sessionId);
    if (!folder) throw new Error('Open the folder this session was started from to compare files.');
    const changes = this.deps.changes.get(sessionId) ?? (await this.deps.changes.refresh(sessionId));
    const change = changes?.remote.find((file) => file.path === path);
    await openDiff(sessionId, folder, path, change?.status ?? 'modified');
  }

  async applyChanges(sessionId: string | undefined = this.deps.chat.currentSession, paths?: string[]): Promise<void> {
    if (!sessionId) return void vscode.window.showInformationMessage('Open a Switchboard session first.');
    const folder = this.deps.changes.folderFor(sessionId);
    if (!folder) return void vscode.window.showErrorMessage('Open the folder this session was started from, then apply its changes.');
    const latest = await this.deps.changes.refresh(sessionId);
    const chosen = (latest?.remote ?? []).filter((file) => !paths || paths.includes(file.path));
    if (chosen.length === 0) return void vscode.window.showInformationMessage('The agent has not changed any files.');
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Switchboard: applying agent changes' },
      (progress) => applyChanges(this.deps.client, sessionId, folder, chosen, progress),
    );
    await this.deps.changes.refresh(sessionId);
    const parts = [`Applied ${result.applied.length} file${result.applied.length === 1 ? '' : 's'}`];
    if (result.unchanged.length) parts.push(`${result.unchanged.length} already up to date`);
    if (result.conflicts.length === 0) return void vscode.window.showInformationMessage(`${parts.join('; ')}.`);
    const first = result.conflicts[0];
    void vscode.window
      .showWarningMessage(
        `${parts.join('; ')}. Not overwritten because they changed locally since the upload: ${result.conflicts.join(', ')}.`,
        'Open Diff',
      )
      .then((choice) => {
        if (choice === 'Open Diff' && first) this.openDiff(sessionId, first).catch((error: unknown) => this.report(error));
      });
  }

  async insertCode(code: string): Promise<void> {
    const editor = this.deps.lastEditor();
    if (!editor) return void vscode.window.showInformationMessage('Open a file and place the cursor where the code should go.');
    await editor.edit((builder) => {
      for (const selection of editor.selections) builder.replace(selection, code);
    });
  }

  /** Shows an error from any action in words, with the next step. */
  report(error: unknown): void {
    const failure = error instanceof UploadError ? error : toRpcError(error);
    this.deps.output.error(failure.message);
    if (failure instanceof RpcError && failure.code === 'UNAUTHORIZED' && this.deps.client.state === 'signed-out') return;
    void vscode.window.showErrorMessage(failure.message, 'Show Logs').then((choice) => {
      if (choice === 'Show Logs') this.deps.output.show();
    });
  }
}
