import * as vscode from 'vscode';
import type { Actions } from './actions.js';
import { openMemory } from './agents.js';
import type { ChatViews } from './chat/chat-views.js';
import type { SwitchboardClient } from './client/switchboard-client.js';
import type { ChangesTracker } from './edits/changes-tracker.js';
import { runAgentOn } from './run-agent.js';
import type { ScheduledRuns } from './schedules.js';
import type { SessionStore } from './sessions/session-store.js';

export interface CommandDeps {
  actions: Actions;
  client: SwitchboardClient;
  store: SessionStore;
  chat: ChatViews;
  changes: ChangesTracker;
  output: vscode.LogOutputChannel;
  schedules: ScheduledRuns;
}

type Handler = (...args: never[]) => unknown;

/** Every palette command, by id (the ids `package.json` contributes). Arguments make them scriptable. */
export function commandTable(deps: CommandDeps): Record<string, Handler> {
  const { actions } = deps;
  return {
    'switchboard.signIn': (token?: string) => actions.signIn(typeof token === 'string' ? token : undefined),
    'switchboard.signOut': () => actions.signOut(),
    'switchboard.newSession': (options?: { title?: string; source?: 'upload' | 'empty'; agent?: string }) =>
      actions.newSession(typeof options === 'object' ? options : {}),
    'switchboard.runOnSelection': (request?: string) => runAgentOn('selection', deps, typeof request === 'string' ? request : undefined),
    'switchboard.runOnFile': (request?: string) => runAgentOn('file', deps, typeof request === 'string' ? request : undefined),
    'switchboard.abort': (sessionId?: string) => actions.abort(typeof sessionId === 'string' ? sessionId : undefined),
    'switchboard.openSession': (sessionId?: string) => actions.openSession(typeof sessionId === 'string' ? sessionId : undefined),
    'switchboard.openSessionInEditor': (target?: string | { session?: { id: string } }) =>
      actions.openInEditor(typeof target === 'string' ? target : target?.session?.id),
    'switchboard.showBudget': () => actions.showBudget(),
    'switchboard.showSchedules': () => deps.schedules.show(),
    'switchboard.openMemory': (agentId?: string) => openMemory(deps.client, typeof agentId === 'string' ? agentId : undefined),
    'switchboard.applyChanges': (sessionId?: string, paths?: string[]) =>
      actions.applyChanges(typeof sessionId === 'string' ? sessionId : undefined, Array.isArray(paths) ? paths : undefined),
    'switchboard.refreshSessions': () => deps.store.refresh(),
    'switchboard.showLogs': () => deps.output.show(),
  };
}

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  return Object.entries(commandTable(deps)).map(([id, handler]) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await (handler as (...rest: unknown[]) => unknown)(...args);
      } catch (error) {
        deps.actions.report(error);
        return undefined;
      }
    }),
  );
}
