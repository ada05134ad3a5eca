#!/usr/bin/env node
// Runs the extension-host mocha suite (test/e2e/suite) in a desktop VS Code through
// @vscode/test-electron, on machines that have one: VSCODE_EXECUTABLE, or a desktop `code` on
// PATH. It never downloads VS Code. SWITCHBOARD_E2E_FILES picks suite files (default: commands,
// the ones that need no control plane).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildE2eSuite } from './build-e2e-suite.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const extensionDir = path.join(repo, 'extension');

function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The Electron binary behind a desktop `code` launcher (not code-server's or a remote server's CLI). */
function desktopFromLauncher(launcher) {
  const binDir = path.dirname(realpathSync(launcher));
  const root = path.dirname(binDir);
  const candidates = {
    linux: [path.join(root, 'code'), path.join(root, 'code-insiders')],
    darwin: [path.join(root, '..', '..', 'MacOS', 'Electron'), path.join(root, '..', '..', 'MacOS', 'Code')],
    win32: [path.join(root, 'Code.exe')],
  }[process.platform];
  const resources = process.platform === 'darwin' ? root : path.join(root, 'resources', 'app');
  if (!existsSync(path.join(resources, 'product.json'))) return undefined;
  return candidates?.find((file) => existsSync(file) && executable(file));
}

function findDesktopVsCode() {
  const explicit = process.env.VSCODE_EXECUTABLE;
  if (explicit) {
    if (!executable(explicit)) throw new Error(`VSCODE_EXECUTABLE=${explicit} is not an executable file`);
    return explicit;
  }
  const which = spawnSync(process.platform === 'win32' ? 'where' : 'which', ['code'], { encoding: 'utf8' });
  const launcher = which.status === 0 ? which.stdout.split(/\r?\n/)[0]?.trim() : '';
  return launcher ? desktopFromLauncher(launcher) : undefined;
}

async function main() {
  const vscodeExecutablePath = findDesktopVsCode();
  if (!vscodeExecutablePath) {
    console.log(
      'test:electron skipped: no desktop VS Code on this machine (set VSCODE_EXECUTABLE or put `code` on PATH; ' +
        'it is never downloaded here, its download host is unreachable). The same suite runs in code-server under `npm test`.',
    );
    return 0;
  }
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    console.error('test:electron: no DISPLAY; a desktop VS Code needs one (run under xvfb-run -a).');
  }
  const build = spawnSync('npm', ['run', 'build', '--silent', '-w', 'extension'], { cwd: repo, stdio: 'inherit' });
  if (build.status !== 0) return 1;
  const suite = await buildE2eSuite();
  const { runTests } = await import('@vscode/test-electron');
  const scratch = await mkdtemp(path.join(tmpdir(), 'switchboard-electron-'));
  const workspace = path.join(scratch, 'workspace');
  await mkdir(workspace);
  try {
    await runTests({
      vscodeExecutablePath,
      extensionDevelopmentPath: extensionDir,
      extensionTestsPath: suite.entry,
      launchArgs: [
        workspace,
        '--disable-extensions',
        `--user-data-dir=${path.join(scratch, 'user-data')}`,
        `--extensions-dir=${path.join(scratch, 'extensions')}`,
      ],
      extensionTestsEnv: {
        SWITCHBOARD_E2E_RUNNER: 'electron',
        SWITCHBOARD_E2E_FILES: process.env.SWITCHBOARD_E2E_FILES ?? 'commands',
      },
    });
    return 0;
  } catch (error) {
    console.error(`test:electron failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(`test:electron: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
