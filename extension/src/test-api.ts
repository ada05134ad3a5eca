import type { ChatChange, ConnectionState, ScheduleRunNotification, Session, SessionEventNotification } from '@switchboard/protocol';
import type { ChatViews } from './chat/chat-views.js';
import type { SwitchboardClient } from './client/switchboard-client.js';
import type { ChangesTracker } from './edits/changes-tracker.js';
import type { ScheduledRuns } from './schedules.js';
import type { SessionStore } from './sessions/session-store.js';
import type { StatusBar } from './status-bar.js';

/**
 * What `activate` returns: a read-only look at the extension's state, for the editor tests and
 * for other extensions that want to know whether Switchboard is connected.
 */
export interface SwitchboardApi {
  connectionState(): ConnectionState;
  statusBarText(): string;
  currentSession(): string | undefined;
  session(sessionId: string): Session | undefined;
  transcript(sessionId: string): readonly SessionEventNotification[];
  changes(sessionId: string): readonly ChatChange[] | undefined;
  /** Sessions in the Sessions tree (own and teams'). */
  sessions(): readonly Session[];
  /** Scheduled-run endings this window was told about. */
  scheduleRuns(): readonly ScheduleRunNotification[];
}

export function createTestApi(parts: {
  client: SwitchboardClient;
  store: SessionStore;
  chat: ChatViews;
  changes: ChangesTracker;
  statusBar: StatusBar;
  schedules: ScheduledRuns;
}): SwitchboardApi {
  return {
    connectionState: () => parts.client.state,
    statusBarText: () => parts.statusBar.text,
    currentSession: () => parts.chat.currentSession,
    session: (sessionId) => parts.store.get(sessionId),
    transcript: (sessionId) => parts.store.transcript(sessionId),
    changes: (sessionId) => parts.changes.get(sessionId)?.files,
    sessions: () => parts.store.sessions(),
    scheduleRuns: () => parts.schedules.received(),
  };
}
