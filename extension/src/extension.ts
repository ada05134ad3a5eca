import { BudgetRefusal } from '@switchboard/protocol';
import * as vscode from 'vscode';
import { Actions } from './actions.js';
import { formatDollars, periodLabel } from './budget-format.js';
import { CHAT_VIEW_ID, ChatViews } from './chat/chat-views.js';
import { TokenStore } from './client/auth.js';
import { SwitchboardClient } from './client/switchboard-client.js';
import { registerCommands } from './commands.js';
import { readSettings, type Settings } from './config.js';
import { AGENT_SCHEME, AgentDocuments } from './edits/agent-documents.js';
import { ChangesTracker } from './edits/changes-tracker.js';
import { MEMORY_SCHEME, MemoryFileSystem } from './memory/memory-fs.js';
import { ScheduledRuns } from './schedules.js';
import { SessionStore } from './sessions/session-store.js';
import { SessionsTree } from './sessions/sessions-tree.js';
import { StatusBar } from './status-bar.js';
import { createTestApi, type SwitchboardApi } from './test-api.js';

/** Wiring only: every part is built here and handed what it needs. */
export async function activate(context: vscode.ExtensionContext): Promise<SwitchboardApi> {
  const output = vscode.window.createOutputChannel('Switchboard', { log: true });
  let lastProblem = '';
  const settings = (): Settings =>
    readSettings((problem) => {
      if (problem === lastProblem) return;
      lastProblem = problem;
      void vscode.window.showWarningMessage(problem);
    });
  let connectedUrl = '';
  const tokens = new TokenStore(context.secrets);
  const client = new SwitchboardClient(output);
  const store = new SessionStore(client, output);
  const changes = new ChangesTracker(client, store, context.globalState, output);
  const statusBar = new StatusBar();
  let lastEditor = vscode.window.activeTextEditor;
  let actions: Actions | undefined;
  const chat = new ChatViews(context.extensionUri, () => ({ client, store, changes, actions: requireActions(), output }));
  const requireActions = () => {
    if (!actions) throw new Error('Switchboard is still starting.');
    return actions;
  };
  actions = new Actions({
    client,
    tokens,
    store,
    changes,
    chat,
    settings,
    output,
    lastEditor: () => lastEditor,
    budgetRefused: (details) => budgetRefused(details, new Date().toISOString()),
  });
  const tree = new SessionsTree(store, () => client.user?.id);
  const schedules = new ScheduledRuns(client, output, () => void store.refresh());

  const setContext = (key: string, value: boolean) => void vscode.commands.executeCommand('setContext', `switchboard.${key}`, value);
  const connect = async () => {
    const token = await tokens.get();
    setContext('signedIn', Boolean(token));
    if (!token) return client.stop();
    connectedUrl = settings().serverUrl;
    await client.start(() => settings().serverUrl, token);
  };
  const refreshBudget = async () => {
    try {
      statusBar.update({ budgets: (await client.request('budget/get', {})).budgets });
    } catch (error) {
      output.warn(`Could not read budgets: ${(error as Error).message}`);
    }
  };
  const budgetRefused = (details: unknown, at: string) => {
    const refusal = BudgetRefusal.safeParse(details);
    if (!refusal.success) return;
    statusBar.update({ refused: { budgetId: refusal.data.budgetId, limitMicros: refusal.data.limitMicros, at } });
    void refreshBudget();
  };
  const runningContext = () => {
    const current = chat.currentSession;
    setContext('sessionOpen', Boolean(current));
    setContext('turnRunning', Boolean(current && store.isRunning(current)));
    setContext('hasChanges', Boolean(current && changes.get(current)?.files.some((file) => !file.applied)));
  };

  context.subscriptions.push(
    output,
    tokens,
    client,
    store,
    changes,
    statusBar,
    chat,
    tree,
    schedules,
    vscode.window.registerWebviewViewProvider(CHAT_VIEW_ID, chat, { webviewOptions: { retainContextWhenHidden: false } }),
    vscode.window.registerTreeDataProvider('switchboard.sessions', tree),
    vscode.workspace.registerTextDocumentContentProvider(AGENT_SCHEME, new AgentDocuments(client)),
    vscode.workspace.registerFileSystemProvider(MEMORY_SCHEME, new MemoryFileSystem(client), { isCaseSensitive: true }),
    ...registerCommands({ actions, client, store, chat, changes, output, schedules }),
    vscode.window.onDidChangeActiveTextEditor((editor) => {
      if (editor) lastEditor = editor;
    }),
    tokens.onDidChange(() => void connect()),
    vscode.workspace.onDidChangeConfiguration((change) => {
      if (!change.affectsConfiguration('switchboard')) return;
      if (settings().serverUrl !== connectedUrl) void connect();
    }),
    client.onDidChangeState(({ state }) => statusBar.update({ state })),
    client.onDidConnect(() => void refreshBudget()),
    client.onBudgetUpdated(({ budgets }) => statusBar.update({ budgets })),
    store.onEvents(({ events }) => {
      for (const { event, at } of events) {
        if (event.type === 'error' && event.code === 'BUDGET_EXCEEDED') budgetRefused(event.details?.budget, at);
      }
    }),
    client.onBudgetAlert((alert) => {
      const pct = alert.limitMicros === 0 ? 100 : Math.floor((alert.spentMicros * 100) / alert.limitMicros);
      void vscode.window
        .showWarningMessage(
          `Switchboard: ${alert.scope === 'team' ? 'your team has' : 'you have'} used ${formatDollars(alert.spentMicros)} of ${formatDollars(alert.limitMicros)} ${periodLabel(alert.period)} (${pct}%).`,
          'Show Budget',
        )
        .then((choice) => {
          if (choice === 'Show Budget') void vscode.commands.executeCommand('switchboard.showBudget');
        });
    }),
    client.onUnauthorized(() => {
      setContext('signedIn', false);
      void vscode.window
        .showErrorMessage('Switchboard refused your token (revoked or expired). Sign in again.', 'Sign In')
        .then((choice) => {
          if (choice === 'Sign In') void vscode.commands.executeCommand('switchboard.signIn');
        });
    }),
    store.onDidChangeSession(runningContext),
    changes.onDidChange(runningContext),
    chat.onDidChangeCurrent(runningContext),
  );
  output.info('Switchboard extension activated');
  void connect();
  return createTestApi({ client, store, chat, changes, statusBar, schedules });
}

export function deactivate(): void {}
