import * as vscode from 'vscode';
import { type BridgeDeps, ChatBridge } from './chat-bridge.js';
import { chatHtml, webviewOptions } from './webview-html.js';

export const CHAT_VIEW_ID = 'switchboard.chat';
const PANEL_TYPE = 'switchboard.chatPanel';

/**
 * The chat in the Switchboard sidebar (one session at a time) and in editor tabs (one per session).
 * The sidebar's session is "the current session" for palette commands.
 */
export class ChatViews implements vscode.WebviewViewProvider, vscode.Disposable {
  private sidebar: ChatBridge | undefined;
  private pendingSession: string | undefined;
  private readonly panels = new Map<string, { panel: vscode.WebviewPanel; bridge: ChatBridge }>();
  private readonly currentChanged = new vscode.EventEmitter<string | undefined>();
  readonly onDidChangeCurrent = this.currentChanged.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly deps: () => BridgeDeps,
  ) {}

  /** The session the sidebar shows (or the last one asked for before the sidebar opened). */
  get currentSession(): string | undefined {
    return this.sidebar?.sessionId ?? this.pendingSession;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    view.webview.options = webviewOptions(this.extensionUri);
    view.webview.html = chatHtml(view.webview, this.extensionUri, 'Switchboard chat');
    this.sidebar?.dispose();
    const bridge = new ChatBridge(view.webview, 'sidebar', this.deps());
    this.sidebar = bridge;
    view.onDidDispose(() => {
      if (this.sidebar === bridge) this.sidebar = undefined;
      bridge.dispose();
    });
    void bridge.show(this.pendingSession);
  }

  /** Shows a session in the sidebar chat and brings the sidebar forward. */
  async show(sessionId: string | undefined): Promise<void> {
    this.pendingSession = sessionId;
    await vscode.commands.executeCommand(`${CHAT_VIEW_ID}.focus`);
    await this.sidebar?.show(sessionId);
    this.currentChanged.fire(sessionId);
  }

  /** Opens (or reveals) a session in its own editor tab. */
  async openInEditor(sessionId: string, title: string): Promise<void> {
    const open = this.panels.get(sessionId);
    if (open) return open.panel.reveal();
    const panel = vscode.window.createWebviewPanel(PANEL_TYPE, `Agent: ${title}`, vscode.ViewColumn.Active, {
      ...webviewOptions(this.extensionUri),
      retainContextWhenHidden: false,
    });
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'switchboard.svg');
    panel.webview.html = chatHtml(panel.webview, this.extensionUri, title);
    const bridge = new ChatBridge(panel.webview, 'editor', this.deps());
    this.panels.set(sessionId, { panel, bridge });
    panel.onDidDispose(() => {
      this.panels.delete(sessionId);
      bridge.dispose();
    });
    await bridge.show(sessionId);
  }

  dispose(): void {
    this.sidebar?.dispose();
    for (const { panel } of this.panels.values()) panel.dispose();
    this.currentChanged.dispose();
  }
}
