import type { Session, SessionEventNotification } from '@switchboard/protocol';
import * as vscode from 'vscode';
import { type SwitchboardClient, toRpcError } from '../client/switchboard-client.js';

/** Sessions whose transcripts stay in memory; the least recently shown beyond this are dropped. */
const MAX_FOLLOWED = 20;
const LIST_REFRESH_MS = 30_000;

interface Followed {
  session: Session;
  events: SessionEventNotification[];
  lastSeq: number;
  shownAt: number;
}

export interface EventBatch {
  sessionId: string;
  events: SessionEventNotification[];
}

/**
 * The extension's view of the server's sessions: the list for the tree, and for each session that
 * is on screen its transcript, kept gap-free by seq. After a reconnect every followed session is
 * subscribed again from its last seq, so nothing on screen is lost or doubled.
 */
export class SessionStore implements vscode.Disposable {
  private list: Session[] = [];
  private readonly followed = new Map<string, Followed>();
  private readonly listChanged = new vscode.EventEmitter<void>();
  private readonly eventsArrived = new vscode.EventEmitter<EventBatch>();
  private readonly sessionChanged = new vscode.EventEmitter<Session>();
  private readonly disposables: vscode.Disposable[] = [];
  private refreshTimer: NodeJS.Timeout | undefined;
  readonly onDidChangeList = this.listChanged.event;
  readonly onEvents = this.eventsArrived.event;
  readonly onDidChangeSession = this.sessionChanged.event;

  constructor(
    private readonly client: SwitchboardClient,
    private readonly output: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      client.onSessionEvent((event) => this.apply(event)),
      client.onResubscribe(({ sessionId }) => void this.subscribe(sessionId)),
      client.onDidConnect(() => {
        for (const sessionId of this.followed.keys()) void this.subscribe(sessionId);
        void this.refresh();
      }),
      client.onDidChangeState(({ state }) => {
        if (state !== 'signed-out') return;
        this.list = [];
        this.followed.clear();
        this.listChanged.fire();
      }),
    );
    this.refreshTimer = setInterval(() => {
      if (this.client.state === 'connected') void this.refresh();
    }, LIST_REFRESH_MS);
  }

  sessions(): readonly Session[] {
    return this.list;
  }

  get(sessionId: string): Session | undefined {
    return this.followed.get(sessionId)?.session ?? this.list.find((session) => session.id === sessionId);
  }

  transcript(sessionId: string): readonly SessionEventNotification[] {
    return this.followed.get(sessionId)?.events ?? [];
  }

  isRunning(sessionId: string): boolean {
    const status = this.get(sessionId)?.status;
    return status === 'busy' || status === 'retry';
  }

  async refresh(): Promise<void> {
    try {
      const { items } = await this.client.request('session/list', { includeTeam: true });
      // The server's copy wins unless this window already applied newer events of that session.
      for (const session of items) {
        const followed = this.followed.get(session.id);
        if (followed && session.lastSeq >= followed.lastSeq) followed.session = session;
      }
      this.list = items.map((session) => this.followed.get(session.id)?.session ?? session);
      this.listChanged.fire();
    } catch (error) {
      this.output.warn(`Could not list sessions: ${toRpcError(error).message}`);
    }
  }

  /** Starts (or keeps) following a session: loads it, then its transcript through a subscription. */
  async follow(sessionId: string): Promise<Session> {
    const existing = this.followed.get(sessionId);
    if (existing) {
      existing.shownAt = Date.now();
      return existing.session;
    }
    const session = await this.client.request('session/get', { sessionId });
    this.followed.set(sessionId, { session, events: [], lastSeq: 0, shownAt: Date.now() });
    this.upsert(session);
    this.evict();
    await this.subscribe(sessionId);
    return session;
  }

  /** Adds a session the user just created, so the tree shows it before the next list refresh. */
  upsert(session: Session): void {
    const index = this.list.findIndex((item) => item.id === session.id);
    if (index >= 0) this.list[index] = session;
    else this.list.unshift(session);
    this.listChanged.fire();
  }

  private evict() {
    if (this.followed.size <= MAX_FOLLOWED) return;
    const oldest = [...this.followed.entries()].sort((a, b) => a[1].shownAt - b[1].shownAt)[0];
    if (!oldest) return;
    this.followed.delete(oldest[0]);
    void this.client.request('session/unsubscribe', { sessionId: oldest[0] }).catch(() => {});
  }

  private async subscribe(sessionId: string): Promise<void> {
    const followed = this.followed.get(sessionId);
    if (!followed) return;
    try {
      await this.client.request('session/subscribe', { sessionId, sinceSeq: followed.lastSeq });
    } catch (error) {
      this.output.warn(`Could not follow session ${sessionId}: ${toRpcError(error).message}`);
    }
  }

  private apply(notification: SessionEventNotification) {
    const followed = this.followed.get(notification.sessionId);
    if (!followed || notification.seq <= followed.lastSeq) return;
    if (notification.seq !== followed.lastSeq + 1) {
      // A hole (should not happen; the server sends gap-free): ask again from what we have.
      this.output.warn(`Session ${notification.sessionId}: expected seq ${followed.lastSeq + 1}, got ${notification.seq}; catching up.`);
      void this.subscribe(notification.sessionId);
      return;
    }
    followed.events.push(notification);
    followed.lastSeq = notification.seq;
    const event = notification.event;
    if (event.type === 'status') {
      followed.session = { ...followed.session, status: event.status, lastSeq: notification.seq, updatedAt: notification.at };
      this.upsert(followed.session);
      this.sessionChanged.fire(followed.session);
    }
    this.eventsArrived.fire({ sessionId: notification.sessionId, events: [notification] });
  }

  dispose(): void {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    for (const disposable of this.disposables) disposable.dispose();
    this.listChanged.dispose();
    this.eventsArrived.dispose();
    this.sessionChanged.dispose();
  }
}
