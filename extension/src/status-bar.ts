import type { Budget, ConnectionState } from '@switchboard/protocol';
import * as vscode from 'vscode';
import { type Refused, statusView } from './budget-format.js';

/** Connection state and the user's budget, bottom right; a click shows the budget in detail. */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('switchboard.status', vscode.StatusBarAlignment.Right, 100);
  private state: ConnectionState = 'signed-out';
  private budgets: readonly Budget[] = [];
  private refused: Refused | undefined;

  constructor() {
    this.item.name = 'Switchboard';
    this.render();
    this.item.show();
  }

  update(change: { state?: ConnectionState; budgets?: readonly Budget[]; refused?: Refused }): void {
    if (change.state) this.state = change.state;
    if (change.budgets) this.budgets = change.budgets;
    if (change.refused) this.refused = change.refused;
    this.render();
  }

  get text(): string {
    return this.item.text;
  }

  private render() {
    const view = statusView(this.state, this.budgets, this.refused);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.command = this.state === 'signed-out' ? 'switchboard.signIn' : 'switchboard.showBudget';
    this.item.backgroundColor =
      view.level === 'error'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : view.level === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}
