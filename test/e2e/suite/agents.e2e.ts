import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateExtension, waitFor } from './helpers.js';

interface SwitchboardApi {
  connectionState(): string;
  currentSession(): string | undefined;
  session(sessionId: string): { id: string; agent: string; agentId: string | null; agentVersion: number | null } | undefined;
  transcript(sessionId: string): readonly { seq: number; event: { type: string; status?: string } }[];
  sessions(): readonly { id: string; title: string }[];
  scheduleRuns(): readonly { scheduleId: string; status: string; sessionId: string | null }[];
}

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the vitest side of the e2e test passes it to the editor`);
  return value;
};

describe('team agents, their memory, and scheduled runs', function () {
  this.timeout(120_000);
  let api: SwitchboardApi;

  before(async () => {
    api = await activateExtension<SwitchboardApi>();
    if (api.connectionState() !== 'connected') await vscode.commands.executeCommand('switchboard.signIn', env('SWITCHBOARD_E2E_TOKEN'));
    await waitFor('the connection', () => api.connectionState() === 'connected', 30_000);
  });

  it('starts a session with a team agent, recording the agent version', async () => {
    const session = await vscode.commands.executeCommand<{ id: string } | undefined>('switchboard.newSession', {
      title: 'E2E: reviewer',
      source: 'empty',
      agent: env('SWITCHBOARD_E2E_AGENT_NAME'),
    });
    assert.ok(session, 'no session was created (see the Switchboard log)');
    const shown = await waitFor('the session in the store', () => api.session(session.id));
    assert.equal(shown.agent, env('SWITCHBOARD_E2E_AGENT_NAME'));
    assert.equal(shown.agentId, env('SWITCHBOARD_E2E_AGENT_ID'));
    assert.equal(shown.agentVersion, 1);
  });

  it('shows the agent’s memory as files the user can read, edit and delete', async () => {
    const agentId = env('SWITCHBOARD_E2E_AGENT_ID');
    const root = vscode.Uri.from({ scheme: 'switchboard-memory', path: `/${agentId}` });
    const note = vscode.Uri.joinPath(root, 'conventions.md');
    assert.deepEqual(await vscode.workspace.fs.readDirectory(root), [['style.md', vscode.FileType.File]]);
    assert.equal(new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(root, 'style.md'))), 'Tabs, not spaces.');

    const document = await vscode.workspace.openTextDocument(note).then(
      (opened) => opened,
      () => undefined,
    );
    assert.equal(document, undefined, 'the note does not exist yet');
    await vscode.workspace.fs.writeFile(note, new TextEncoder().encode('Prefer small pull requests.'));
    const listed = await vscode.workspace.fs.readDirectory(root);
    assert.deepEqual(listed.map(([name]) => name).sort(), ['conventions.md', 'style.md']);

    const opened = await vscode.workspace.openTextDocument(note);
    const editor = await vscode.window.showTextDocument(opened);
    await editor.edit((edit) => edit.insert(opened.positionAt(opened.getText().length), ' Always.'));
    assert.equal(await opened.save(), true);
    assert.equal(new TextDecoder().decode(await vscode.workspace.fs.readFile(note)), 'Prefer small pull requests. Always.');

    await vscode.workspace.fs.delete(vscode.Uri.joinPath(root, 'style.md'));
    assert.deepEqual(
      (await vscode.workspace.fs.readDirectory(root)).map(([name]) => name),
      ['conventions.md'],
    );
  });

  it('tells the owner when a scheduled run ends and lists its session', async () => {
    const scheduleId = env('SWITCHBOARD_E2E_SCHEDULE_ID');
    const response = await fetch(`${env('SWITCHBOARD_E2E_SERVER_URL')}/api/v1/schedules/${scheduleId}/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env('SWITCHBOARD_E2E_TOKEN')}` },
    });
    assert.equal(response.status, 202, await response.text());
    const run = await waitFor(
      'the run’s notification',
      () => api.scheduleRuns().find((item) => item.scheduleId === scheduleId && item.status !== 'skipped'),
      60_000,
    );
    assert.equal(run.status, 'succeeded');
    assert.ok(run.sessionId);
    await waitFor('the run’s session in the Sessions tree', () => api.sessions().some((session) => session.id === run.sessionId));
  });
});
