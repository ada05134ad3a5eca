import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateExtension, contributedCommands, switchboardExtension } from './helpers.js';

describe('Switchboard extension', () => {
  it('runs with the environment the test runner gave the editor', () => {
    assert.match(process.env.SWITCHBOARD_E2E_RUNNER ?? '', /^(code-server|electron)$/);
  });

  it('activates', async () => {
    await activateExtension();
    assert.equal(switchboardExtension().isActive, true);
  });

  it('registers every command its package.json contributes', async () => {
    await activateExtension();
    const contributed = contributedCommands().map((entry) => entry.command);
    assert.ok(contributed.length > 0, 'package.json contributes no commands');
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(
      contributed.filter((command) => !registered.has(command)),
      [],
    );
  });
});
