import * as vscode from 'vscode';

/**
 * Wiring only. The chat panel, sessions tree, commands and the JSON-RPC client arrive with the
 * extension issue; for now the extension registers its log channel so the package is real.
 */
export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Switchboard', { log: true });
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand('switchboard.showLogs', () => output.show()),
  );
  output.info('Switchboard extension activated');
}

export function deactivate(): void {}
