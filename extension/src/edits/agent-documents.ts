import * as vscode from 'vscode';
import type { SwitchboardClient } from '../client/switchboard-client.js';
import { localUri } from './local-files.js';

export const AGENT_SCHEME = 'switchboard-agent';

/** `switchboard-agent:/<sessionId>/<path>`: the agent's version of a file, read-only, for diffs. */
export function agentUri(sessionId: string, relative: string, empty = false): vscode.Uri {
  return vscode.Uri.from({ scheme: AGENT_SCHEME, path: `/${sessionId}/${relative}`, query: empty ? 'empty' : '' });
}

export class AgentDocuments implements vscode.TextDocumentContentProvider {
  constructor(private readonly client: SwitchboardClient) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    if (uri.query === 'empty') return '';
    const [, sessionId, ...rest] = uri.path.split('/');
    if (!sessionId || rest.length === 0) return '';
    const file = await this.client.request('session/file', { sessionId, path: rest.join('/') });
    return file.content === null ? '' : Buffer.from(file.content, 'base64').toString('utf8');
  }
}

/** Local file on the left, the agent's version on the right (an empty side for added or deleted files). */
export async function openDiff(sessionId: string, folder: vscode.Uri, relative: string, status: 'added' | 'modified' | 'deleted') {
  const left = status === 'added' ? agentUri(sessionId, relative, true) : localUri(folder, relative);
  const right = status === 'deleted' ? agentUri(sessionId, relative, true) : agentUri(sessionId, relative);
  await vscode.commands.executeCommand('vscode.diff', left, right, `${relative} (local ↔ agent)`, { preview: true });
}
