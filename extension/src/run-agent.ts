import * as vscode from 'vscode';
import type { Actions } from './actions.js';
import type { ChatViews } from './chat/chat-views.js';
import type { SwitchboardClient } from './client/switchboard-client.js';
import type { ChangesTracker } from './edits/changes-tracker.js';
import { promptWithContext } from './prompt-context.js';
import type { SessionStore } from './sessions/session-store.js';

/**
 * `Run Agent on Selection` / `on File`: asks what to do, sends it with the code as context to the
 * open session (or a new one started from this folder), and shows the turn as a cancellable
 * progress notification. Cancel aborts the turn on the server.
 */
export async function runAgentOn(
  kind: 'selection' | 'file',
  deps: { actions: Actions; client: SwitchboardClient; store: SessionStore; chat: ChatViews; changes: ChangesTracker },
  request?: string,
): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) return void vscode.window.showInformationMessage('Open a file first: the agent gets it (or your selection) as context.');
  const document = editor.document;
  const selection = editor.selection;
  if (kind === 'selection' && selection.isEmpty)
    return void vscode.window.showInformationMessage('Select some code first, or use "Switchboard: Run Agent on File".');
  const what =
    request ??
    (await vscode.window.showInputBox({
      title: kind === 'selection' ? 'Run agent on the selection' : `Run agent on ${vscode.workspace.asRelativePath(document.uri)}`,
      prompt: 'What should the agent do?',
      placeHolder: 'e.g. Add input validation and a unit test',
      ignoreFocusOut: true,
    }));
  if (!what) return;
  const text = kind === 'selection' ? document.getText(selection) : document.getText();
  const context = {
    path: vscode.workspace.asRelativePath(document.uri, false),
    languageId: document.languageId,
    text,
    ...(kind === 'selection' ? { startLine: selection.start.line + 1, endLine: selection.end.line + 1 } : {}),
  };

  let sessionId = deps.chat.currentSession;
  const current = sessionId ? deps.store.get(sessionId) : undefined;
  const usable = current && current.status !== 'archived' && !deps.store.isRunning(current.id) && current.userId === deps.client.user?.id;
  if (!usable) {
    const folder = vscode.workspace.getWorkspaceFolder(document.uri)?.uri;
    const created = await deps.actions.newSession({
      title: what.slice(0, 80),
      source: folder?.scheme === 'file' ? 'upload' : 'empty',
      ...(folder ? { folder } : {}),
    });
    if (!created) return;
    sessionId = created.id;
  } else await deps.chat.show(sessionId);
  if (!sessionId) return;
  const id = sessionId;

  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Switchboard agent', cancellable: true },
    async (progress, cancel) => {
      progress.report({ message: 'Sending…' });
      const startSeq = deps.store.transcript(id).at(-1)?.seq ?? 0;
      let stop = () => {};
      const done = new Promise<'idle' | 'error' | 'archived'>((resolve) => {
        stop = () => {
          listener.dispose();
          resolve('error');
        };
        const listener = deps.store.onEvents(({ sessionId: eventSession, events }) => {
          if (eventSession !== id) return;
          for (const { seq, event } of events) {
            if (seq <= startSeq) continue;
            if (event.type === 'tool.updated' && event.state === 'running') progress.report({ message: `Running ${event.tool}…` });
            if (event.type === 'text.delta') progress.report({ message: 'Writing…' });
            if (event.type === 'permission.asked') progress.report({ message: `Waiting for your approval: ${event.title}` });
            if (event.type === 'status' && event.status !== 'busy' && event.status !== 'retry') {
              listener.dispose();
              resolve(event.status);
            }
            if (event.type === 'status' && event.status === 'retry') progress.report({ message: `Retrying: ${event.detail ?? ''}` });
          }
        });
        cancel.onCancellationRequested(() => void deps.actions.abort(id).catch(() => {}));
      });
      try {
        await deps.actions.prompt(id, promptWithContext(what, context), (message) => progress.report({ message }));
      } catch (error) {
        stop();
        throw error;
      }
      progress.report({ message: 'Working…' });
      const outcome = await done;
      if (outcome !== 'idle') return;
      const changes = await deps.changes.refresh(id);
      const count = changes?.files.filter((file) => !file.applied).length ?? 0;
      if (count === 0) return;
      void vscode.window
        .showInformationMessage(`The agent changed ${count} file${count === 1 ? '' : 's'}.`, 'Apply All', 'Review')
        .then((choice) => {
          if (choice === 'Apply All') void deps.actions.applyChanges(id).catch((error: unknown) => deps.actions.report(error));
          if (choice === 'Review') void deps.chat.show(id);
        });
    },
  );
}
