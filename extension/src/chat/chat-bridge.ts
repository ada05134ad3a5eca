import { type HostToWebview, type SessionEventNotification, WebviewToHost } from '@switchboard/protocol';
import * as vscode from 'vscode';
import type { Actions } from '../actions.js';
import type { SwitchboardClient } from '../client/switchboard-client.js';
import type { ChangesTracker } from '../edits/changes-tracker.js';
import type { SessionStore } from '../sessions/session-store.js';

/** Largest batch of events posted at once, so a long replay does not freeze the webview. */
const EVENTS_PER_POST = 500;
const FLUSH_MS = 16;

export interface BridgeDeps {
  client: SwitchboardClient;
  store: SessionStore;
  changes: ChangesTracker;
  actions: Actions;
  output: vscode.LogOutputChannel;
}

/**
 * One webview (the sidebar chat or an editor tab) bound to one session at a time. Nothing is posted
 * before the page says `ready`; after every `ready` (a reload, or the view shown again) the whole
 * state is posted again, so the page never depends on what an earlier page received.
 */
export class ChatBridge implements vscode.Disposable {
  private ready = false;
  private current: string | undefined;
  private queue: SessionEventNotification[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly webview: vscode.Webview,
    private readonly view: 'sidebar' | 'editor',
    private readonly deps: BridgeDeps,
  ) {
    this.disposables.push(
      webview.onDidReceiveMessage((raw: unknown) => void this.receive(raw)),
      deps.client.onDidChangeState(({ state, detail }) => this.post({ type: 'connection', state, ...(detail ? { detail } : {}) })),
      deps.client.onDidConnect(() => this.postAll()),
      deps.store.onEvents(({ sessionId, events }) => {
        if (sessionId !== this.current || !this.ready) return;
        this.queue.push(...events);
        this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_MS);
      }),
      deps.store.onDidChangeSession((session) => {
        if (session.id === this.current) this.post({ type: 'session', session, canWrite: this.canWrite(session.userId) });
      }),
      deps.changes.onDidChange((changes) => {
        if (changes.sessionId === this.current) this.post({ type: 'changes', sessionId: changes.sessionId, files: changes.files });
      }),
    );
  }

  get sessionId(): string | undefined {
    return this.current;
  }

  /** Shows a session (or the empty state); the transcript is replayed from the store. */
  async show(sessionId: string | undefined): Promise<void> {
    this.current = sessionId;
    this.queue = [];
    if (sessionId) {
      await this.deps.store.follow(sessionId);
      void this.deps.changes.refresh(sessionId);
    }
    this.postAll();
  }

  private canWrite(ownerId: string): boolean {
    const user = this.deps.client.user;
    return user !== undefined && user.role !== 'viewer' && (user.id === ownerId || user.role === 'admin');
  }

  private postAll() {
    if (!this.ready) return;
    const { client, store, changes } = this.deps;
    const user = client.user;
    this.post({ type: 'init', view: this.view, user: user ? { id: user.id, displayName: user.displayName } : null });
    this.post({ type: 'connection', state: client.state });
    const session = this.current ? store.get(this.current) : undefined;
    this.post({ type: 'session', session: session ?? null, canWrite: session ? this.canWrite(session.userId) : false });
    if (!session) return;
    const events = [...store.transcript(session.id)];
    this.queue = [];
    for (let start = 0; start === 0 || start < events.length; start += EVENTS_PER_POST) {
      this.post({ type: 'events', sessionId: session.id, events: events.slice(start, start + EVENTS_PER_POST), reset: start === 0 });
    }
    const known = changes.get(session.id);
    if (known) this.post({ type: 'changes', sessionId: session.id, files: known.files });
  }

  private flush() {
    this.flushTimer = undefined;
    if (!this.current || this.queue.length === 0) return;
    const events = this.queue.splice(0);
    for (let start = 0; start < events.length; start += EVENTS_PER_POST) {
      this.post({ type: 'events', sessionId: this.current, events: events.slice(start, start + EVENTS_PER_POST), reset: false });
    }
  }

  private post(message: HostToWebview) {
    if (!this.ready) return;
    void this.webview.postMessage(message);
  }

  private async receive(raw: unknown): Promise<void> {
    const parsed = WebviewToHost.safeParse(raw);
    if (!parsed.success) {
      this.deps.output.warn(`Ignored a malformed message from the chat view: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
      return;
    }
    const message = parsed.data;
    if (message.type === 'ready') {
      this.ready = true;
      this.postAll();
      return;
    }
    if (message.type === 'command') {
      const command = { newSession: 'switchboard.newSession', openSession: 'switchboard.openSession', signIn: 'switchboard.signIn' }[
        message.command
      ];
      await vscode.commands.executeCommand(command);
      return;
    }
    if (message.type === 'code.copy') return void (await vscode.env.clipboard.writeText(message.code));
    if (message.type === 'code.insert') return this.deps.actions.insertCode(message.code);
    const sessionId = this.current;
    if (!sessionId) return;
    const { actions } = this.deps;
    const notice = (error: unknown) => this.post({ type: 'notice', level: 'error', message: (error as Error).message });
    try {
      switch (message.type) {
        case 'prompt':
          return await actions.prompt(sessionId, message.text);
        case 'abort':
          return await actions.abort(sessionId);
        case 'permission.reply':
          return await actions.replyPermission(sessionId, message.permissionId, message.reply);
        case 'question.reply':
          return await actions.replyQuestion(sessionId, message.questionId, message.answers);
        case 'diff.open':
          return await actions.openDiff(sessionId, message.path);
        case 'changes.apply':
          return await actions.applyChanges(sessionId, message.paths);
        case 'changes.refresh':
          return void (await this.deps.changes.refresh(sessionId));
      }
    } catch (error) {
      notice(error);
    }
  }

  dispose(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    for (const disposable of this.disposables) disposable.dispose();
  }
}
