import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../logger.js';

const run = promisify(execFile);

/**
 * OpenCode installs `@opencode-ai/plugin` (pinned to its own version) into each config directory it
 * loads, from the package registry, unless that directory already has it in node_modules with a
 * package-lock.json. We install it ahead of time with `npm install --offline` from the npm cache
 * that our own install filled (the package is a dependency of the control plane), so starting the
 * harness makes no network request. Without a cache, OpenCode falls back to its own install.
 */
export async function prepareConfigDir(configDir: string, version: string, log: Logger): Promise<'ready' | 'installed' | 'skipped'> {
  const lock = path.join(configDir, 'package-lock.json');
  const installed = path.join(configDir, 'node_modules', '@opencode-ai', 'plugin', 'package.json');
  if (existsSync(lock) && existsSync(installed)) {
    const current = JSON.parse(await readFile(installed, 'utf8')) as { version?: string };
    if (current.version === version) return 'ready';
  }
  await mkdir(configDir, { recursive: true });
  await writeFile(
    path.join(configDir, 'package.json'),
    `${JSON.stringify({ dependencies: { '@opencode-ai/plugin': version } }, null, 2)}\n`,
  );
  try {
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], {
      cwd: configDir,
      timeout: 120_000,
      env: { ...process.env, npm_config_update_notifier: 'false' },
    });
    return 'installed';
  } catch (error) {
    log.warn({ err: error, configDir }, 'could not pre-install the OpenCode plugin package offline; OpenCode will install it itself');
    return 'skipped';
  }
}
