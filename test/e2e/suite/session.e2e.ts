import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as vscode from 'vscode';
import { activateExtension, waitFor } from './helpers.js';

/** The read-only look the extension returns from `activate` (extension/src/test-api.ts). */
interface SwitchboardApi {
  connectionState(): string;
  statusBarText(): string;
  currentSession(): string | undefined;
  session(sessionId: string): { id: string; status: string; title: string } | undefined;
  transcript(sessionId: string): readonly { seq: number; event: { type: string; status?: string } }[];
  changes(sessionId: string): readonly { path: string; status: string; conflict: boolean; applied: boolean }[] | undefined;
}

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the vitest side of the e2e test passes it to the editor`);
  return value;
};

const idleTurns = (api: SwitchboardApi, sessionId: string) =>
  api.transcript(sessionId).filter((item) => item.event.type === 'status' && item.event.status === 'idle').length;

describe('a session on a real control plane', function () {
  this.timeout(120_000);
  let api: SwitchboardApi;
  let sessionId = '';
  const folder = () => {
    const first = vscode.workspace.workspaceFolders?.[0];
    if (!first) throw new Error('the editor was opened without a folder');
    return first.uri.fsPath;
  };

  before(async () => {
    api = await activateExtension<SwitchboardApi>();
    await vscode.commands.executeCommand('switchboard.signIn', env('SWITCHBOARD_E2E_TOKEN'));
    await waitFor('the connection', () => api.connectionState() === 'connected', 30_000);
  });

  it('signs in with a token and shows the live budget in the status bar', async () => {
    await waitFor('the budget in the status bar', () => api.statusBarText().includes('$0.00 / $5.00 this month'));
  });

  it('starts a session from the workspace folder, uploading its git files', async () => {
    const session = await vscode.commands.executeCommand<{ id: string; title: string } | undefined>('switchboard.newSession', {
      title: 'E2E: edit app',
      source: 'upload',
      agent: 'build',
    });
    assert.ok(session, 'no session was created (see the Switchboard log)');
    sessionId = session.id;
    assert.equal(api.currentSession(), sessionId);
    await waitFor('the first status event', () => idleTurns(api, sessionId) >= 1);
  });

  it('runs the agent on the open file, lists its changes, and applies them without overwriting a local edit', async () => {
    const appFile = path.join(folder(), 'src', 'app.ts');
    const notesFile = path.join(folder(), 'notes.md');
    const before = await readFile(appFile, 'utf8');
    await writeFile(notesFile, 'my own notes\n');
    const editor = await vscode.window.showTextDocument(vscode.Uri.file(appFile));
    assert.equal(editor.document.getText(), before);

    const turnsBefore = idleTurns(api, sessionId);
    await vscode.commands.executeCommand('switchboard.runOnFile', 'EDIT_APP: set the answer to 42');
    await waitFor('the end of the turn', () => idleTurns(api, sessionId) > turnsBefore, 60_000);
    const changes = await waitFor('the changed files', () => {
      const files = api.changes(sessionId);
      return files && files.length >= 2 ? files : undefined;
    });
    assert.deepEqual(
      [...changes].sort((a, b) => a.path.localeCompare(b.path)),
      [
        { path: 'notes.md', status: 'added', conflict: true, applied: false },
        { path: 'src/app.ts', status: 'modified', conflict: false, applied: false },
      ],
    );

    await vscode.commands.executeCommand('switchboard.applyChanges');
    assert.equal(await readFile(appFile, 'utf8'), 'export const answer = 42;\n');
    assert.equal(await readFile(notesFile, 'utf8'), 'my own notes\n', 'a file changed locally must not be overwritten');
    assert.equal(editor.document.getText(), 'export const answer = 42;\n');
    assert.equal(editor.document.isDirty, false);
    await waitFor('the change marked applied', () => api.changes(sessionId)?.find((file) => file.path === 'src/app.ts')?.applied);
  });

  it('serves the agent’s version of a file for diffs, next to the untouched local one', async () => {
    const right = vscode.Uri.from({ scheme: 'switchboard-agent', path: `/${sessionId}/notes.md` });
    assert.equal((await vscode.workspace.openTextDocument(right)).getText(), '# Notes from the agent\n');
    const left = vscode.Uri.file(path.join(folder(), 'notes.md'));
    assert.equal((await vscode.workspace.openTextDocument(left)).getText(), 'my own notes\n');
  });

  it('opens the same session in an editor tab, next to the sidebar chat', async () => {
    await vscode.commands.executeCommand('switchboard.openSessionInEditor', sessionId);
    const tab = await waitFor('the chat tab', () =>
      vscode.window.tabGroups.all
        .flatMap((group) => group.tabs)
        .find((item) => item.input instanceof vscode.TabInputWebview && item.label === 'Agent: E2E: edit app'),
    );
    assert.ok((tab.input as vscode.TabInputWebview).viewType.endsWith('switchboard.chatPanel'));
    await vscode.window.tabGroups.close(tab);
  });
});

describe('a network outage in the middle of a turn', function () {
  this.timeout(120_000);

  it('reconnects on its own and shows the whole turn once, without gaps or duplicates', async () => {
    const api = await activateExtension<SwitchboardApi>();
    await waitFor('the connection', () => api.connectionState() === 'connected', 30_000);
    const sessionId = api.currentSession();
    assert.ok(sessionId, 'the previous test leaves a session open');
    const startSeq = api.transcript(sessionId).at(-1)?.seq ?? 0;
    const states: string[] = [];
    const watcher = setInterval(() => {
      const state = api.connectionState();
      if (states.at(-1) !== state) states.push(state);
    }, 20);

    const turn = vscode.commands.executeCommand('switchboard.runOnFile', 'SLOW: tell a long story');
    await waitFor('the first streamed text', () =>
      api.transcript(sessionId).some((item) => item.seq > startSeq && item.event.type === 'text.delta'),
    );
    const cut = await fetch(`${env('SWITCHBOARD_E2E_CONTROL_URL')}/outage?ms=2500`, { method: 'POST' });
    assert.equal(cut.status, 204);
    await waitFor('the outage to be noticed', () => api.connectionState() === 'reconnecting', 10_000);
    await waitFor('the reconnect', () => api.connectionState() === 'connected', 30_000);
    await turn;
    await waitFor('the end of the turn', () =>
      api.transcript(sessionId).some((item) => item.seq > startSeq && item.event.type === 'status' && item.event.status === 'idle'),
    );
    clearInterval(watcher);

    const transcript = api.transcript(sessionId);
    assert.deepEqual(
      transcript.map((item) => item.seq),
      transcript.map((_, index) => index + 1),
      'seqs must run 1, 2, 3 … with no gap and no repeat',
    );
    const text = transcript
      .filter((item) => item.seq > startSeq && item.event.type === 'text.delta')
      .map((item) => (item.event as { delta?: string }).delta ?? '')
      .join('');
    assert.equal(text, 'Thinking about it at length. '.repeat(40));
    assert.ok(states.includes('reconnecting'), `states seen: ${states.join(' → ')}`);
  });
});
