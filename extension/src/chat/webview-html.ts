import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/** Where the webview may load from: the bundled script and styles, nothing else. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview')] };
}

/** The chat page: a strict CSP with a per-load nonce; the script posts `ready` before the host sends anything. */
export function chatHtml(webview: vscode.Webview, extensionUri: vscode.Uri, title: string): string {
  const nonce = randomBytes(16).toString('base64');
  const asset = (name: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', name)).toString();
  const csp = [
    "default-src 'none'",
    `style-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${asset('styles.css')}">
<title>${title.replace(/[<>&"]/g, '')}</title>
</head>
<body>
<div id="root"></div>
<script nonce="${nonce}" src="${asset('main.js')}"></script>
</body>
</html>`;
}
