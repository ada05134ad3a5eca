import type { AgentSummary } from '@switchboard/protocol';
import * as vscode from 'vscode';
import { type SwitchboardClient, toRpcError } from './client/switchboard-client.js';

const METHOD_NOT_FOUND = -32601;

import { MEMORY_SCHEME, memoryUri } from './memory/memory-fs.js';

/** OpenCode's own general-purpose agent: what a session runs when no team agent is chosen. */
export const BUILT_IN_AGENT = 'build';

/**
 * Lets the user pick one of the team's agents for a new session. With no agents defined there is
 * nothing to choose and the built-in agent runs. Returns undefined when the user cancels.
 */
export async function pickAgent(client: SwitchboardClient): Promise<string | undefined> {
  const listed = await client.request('agent/list', {}).catch((error: unknown) => {
    // A control plane from before agents existed: only the built-in agent runs there.
    if (toRpcError(error).jsonrpcCode === METHOD_NOT_FOUND) return { items: [] };
    throw error;
  });
  const items = listed.items;
  if (items.length === 0) return BUILT_IN_AGENT;
  const picked = await vscode.window.showQuickPick(
    [
      ...items.map((agent) => ({
        label: agent.name,
        description: `${agent.model ?? 'default model'} · v${agent.version}${agent.memory ? ' · memory' : ''}`,
        detail: agent.description,
        name: agent.name,
      })),
      {
        label: BUILT_IN_AGENT,
        description: 'OpenCode’s general agent',
        detail: 'No team instructions, skills or tools',
        name: BUILT_IN_AGENT,
      },
    ],
    { title: 'Which agent?', placeHolder: 'Your team’s agents', matchOnDescription: true, matchOnDetail: true },
  );
  return picked?.name;
}

/** Opens one of an agent's memory notes (or a new one) as an editable document; saving stores it. */
export async function openMemory(client: SwitchboardClient, agentId?: string): Promise<void> {
  let agent: AgentSummary | undefined;
  const { items } = await client.request('agent/list', {});
  const withMemory = items.filter((item) => item.memory);
  if (agentId) agent = withMemory.find((item) => item.id === agentId);
  else if (withMemory.length === 0) return void vscode.window.showInformationMessage('None of your team’s agents keeps a memory.');
  else {
    const picked = await vscode.window.showQuickPick(
      withMemory.map((item) => ({ label: item.name, detail: item.description, agent: item })),
      { title: 'Whose memory?' },
    );
    agent = picked?.agent;
  }
  if (!agent) return;
  const list = await client.request('memory/list', { agentId: agent.id });
  const NEW = '$(add) New note…';
  const picked = await vscode.window.showQuickPick(
    [
      { label: NEW, key: '' },
      ...list.items.map((note) => ({
        label: note.key,
        description: `${note.bytes} bytes · ${new Date(note.updatedAt).toLocaleString()}`,
        detail: note.content.slice(0, 120).replace(/\s+/g, ' '),
        key: note.key,
      })),
    ],
    { title: `${agent.name}: memory (${list.usedBytes} of ${list.limitBytes} bytes used)`, placeHolder: 'Open a note to read or edit it' },
  );
  if (!picked) return;
  let key = picked.key;
  if (!key) {
    key =
      (await vscode.window.showInputBox({
        title: 'New memory note',
        prompt: 'A name for the note (letters, digits, dots, dashes, underscores)',
        validateInput: (value) =>
          /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(value) ? undefined : 'Letters, digits, dots, dashes or underscores',
      })) ?? '';
    if (!key) return;
    await client.request('memory/put', { agentId: agent.id, key, content: '' });
  }
  const document = await vscode.workspace.openTextDocument(memoryUri(agent.id, key));
  await vscode.window.showTextDocument(document);
}

export { MEMORY_SCHEME };
