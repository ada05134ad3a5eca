import type { Session } from '@switchboard/protocol';
import * as vscode from 'vscode';
import type { SessionStore } from './session-store.js';

type Node = { kind: 'group'; label: string; sessions: Session[] } | { kind: 'session'; session: Session; mine: boolean };

const STATUS_ICON: Record<Session['status'], vscode.ThemeIcon> = {
  idle: new vscode.ThemeIcon('comment-discussion'),
  busy: new vscode.ThemeIcon('loading~spin'),
  retry: new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('problemsWarningIcon.foreground')),
  error: new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground')),
  archived: new vscode.ThemeIcon('archive'),
};

/** "My sessions" and "Shared with my teams", newest first, each with its live status. */
export class SessionsTree implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(
    private readonly store: SessionStore,
    private readonly userId: () => string | undefined,
  ) {
    store.onDidChangeList(() => this.changed.fire());
  }

  getChildren(node?: Node): Node[] {
    if (node?.kind === 'group') return node.sessions.map((session) => ({ kind: 'session', session, mine: true }));
    if (node) return [];
    const me = this.userId();
    const sessions = [...this.store.sessions()].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
    const mine = sessions.filter((session) => session.userId === me);
    const shared = sessions.filter((session) => session.userId !== me);
    if (shared.length === 0) return mine.map((session) => ({ kind: 'session', session, mine: true }));
    return [
      { kind: 'group', label: 'My sessions', sessions: mine },
      { kind: 'group', label: 'Shared with my teams', sessions: shared },
    ];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'group') {
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Expanded);
      item.contextValue = 'group';
      item.description = String(node.sessions.length);
      return item;
    }
    const { session } = node;
    const item = new vscode.TreeItem(session.title, vscode.TreeItemCollapsibleState.None);
    item.id = session.id;
    item.iconPath = STATUS_ICON[session.status];
    item.description = `${session.status === 'idle' ? '' : `${session.status} · `}${session.model}`;
    item.tooltip = new vscode.MarkdownString(
      `**${escapeMarkdown(session.title)}**\n\n${session.status} · ${escapeMarkdown(session.model)} · agent ${escapeMarkdown(session.agent)}\n\nUpdated ${new Date(session.updatedAt).toLocaleString()}`,
    );
    item.contextValue = `session.${session.status}`;
    item.command = { command: 'switchboard.openSession', title: 'Open', arguments: [session.id] };
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

const escapeMarkdown = (text: string) => text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
