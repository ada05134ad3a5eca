import { execFileSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, launchBrowser, openWorkbench, runCommand, screenshot, statusBarItem, webviewFrame } from '../fixtures/browser.js';
import { type CodeServer, startCodeServer } from '../fixtures/code-server.js';
import { type PreparedE2e, prepareE2e, REPO_DIR } from '../fixtures/e2e-prepare.js';
import { runSuiteOrThrow } from '../fixtures/e2e-workspace.js';
import { makeTempDir } from '../fixtures/temp.js';

describe('the extension inside a real VS Code (code-server)', () => {
  let prepared: PreparedE2e;
  let workspace: string;
  let server: CodeServer | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    prepared = await prepareE2e();
    workspace = await makeTempDir('e2e-workspace');
    await mkdir(path.join(workspace, 'src'));
    await writeFile(path.join(workspace, 'src', 'hello.ts'), 'export const hello = 1;\n');
    server = await startCodeServer({
      workspace,
      extensionDevelopmentPath: prepared.extensionDevelopmentPath,
      // The suite checks that this reaches the extension host (it inherits the server's environment).
      env: { SWITCHBOARD_E2E_RUNNER: 'code-server', SWITCHBOARD_E2E_FILES: 'commands' },
    });
    browser = await launchBrowser();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (workspace) await rm(workspace, { recursive: true, force: true });
  });

  it('runs the mocha suite in the extension host, and every test passes', async () => {
    if (!server || !browser) throw new Error('setup failed');
    const { summary, report } = await runSuiteOrThrow({ browser, server, prepared, name: 'editor' });
    expect(summary.passed, report).toBeGreaterThan(0);
    expect(summary.pending, report).toBe(0);
  }, 300_000);

  it('shows the chat webview when its view is opened from the command palette', async () => {
    if (!server || !browser) throw new Error('setup failed');
    const page = await browser.context.newPage();
    try {
      await openWorkbench(page, server.url, workspace, { extensionDevelopmentPath: prepared.extensionDevelopmentPath });
      // VS Code names the view's focus command after package.json: container "Switchboard", view "Chat".
      await runCommand(page, 'Switchboard: Focus on Chat View');
      const chat = await webviewFrame(page, { extensionId: 'switchboard.switchboard-vscode' });
      await expect.poll(async () => (await chat.locator('body').textContent())?.trim().length ?? 0, { timeout: 30_000 }).toBeGreaterThan(0);
      await screenshot(page, 'editor-chat-view');
    } finally {
      await page.close();
    }
  }, 120_000);

  it('installs from the packaged .vsix (everything bundled, no node_modules) and activates', async () => {
    if (!browser) throw new Error('setup failed');
    // Packages the build the other tests use (`npm run package` would rebuild dist/ under them).
    const vsce = (...args: string[]) =>
      execFileSync('npx', ['vsce', ...args, '--no-dependencies'], {
        cwd: path.join(REPO_DIR, 'extension'),
        encoding: 'utf8',
        timeout: 180_000,
      });
    const listing = vsce('ls').trim().split('\n');
    expect(listing).toEqual(
      expect.arrayContaining(['package.json', 'dist/extension.js', 'dist/webview/main.js', 'dist/webview/styles.css']),
    );
    expect(listing.filter((entry) => entry.includes('node_modules') || entry.startsWith('src/') || entry.endsWith('.map'))).toEqual([]);
    const vsix = path.join(workspace, '..', `switchboard-${process.pid}.vsix`);
    vsce('package', '--allow-missing-repository', '--skip-license', '--out', vsix);
    const installed = await startCodeServer({ workspace, installVsix: vsix, env: { SWITCHBOARD_E2E_RUNNER: 'code-server' } });
    const page = await browser.context.newPage();
    try {
      await openWorkbench(page, installed.url, workspace);
      await statusBarItem(page, 'Switchboard: Sign In').waitFor({ state: 'visible', timeout: 60_000 });
    } finally {
      await page.close();
      await installed.stop();
      await rm(vsix, { force: true });
    }
  }, 300_000);
});
