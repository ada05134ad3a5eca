import { readFileSync, realpathSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bundledPluginDir, prepareConfigDir } from '../../../control-plane/src/harness/plugin-cache.js';
import { makeTempDir } from '../../fixtures/temp.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});
const warnings: unknown[] = [];
const log = { warn: (...args: unknown[]) => void warnings.push(args) } as never;

async function fakePlugin(root: string, version: string) {
  const dir = path.join(root, 'node_modules', '@opencode-ai', 'plugin');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: '@opencode-ai/plugin', version }));
  return { dir, version };
}

describe('the OpenCode plugin package in the harness config', () => {
  it('is the copy npm install brought, of the same version as the OpenCode binary', () => {
    const plugin = bundledPluginDir();
    const opencode = createRequire(import.meta.url)('opencode-ai/package.json') as { version: string };
    expect(plugin.version).toBe(opencode.version);
    expect(JSON.parse(readFileSync(path.join(plugin.dir, 'package.json'), 'utf8')).name).toBe('@opencode-ai/plugin');
  });

  it('is linked, with a lock that lists it, so OpenCode installs nothing; a second start finds it ready', async () => {
    const root = await makeTempDir('plugin');
    dirs.push(root);
    const plugin = await fakePlugin(path.join(root, 'project'), '1.2.3');
    const config = path.join(root, 'config', 'opencode');
    expect(await prepareConfigDir(config, '1.2.3', log, plugin)).toBe('linked');
    const installed = path.join(config, 'node_modules', '@opencode-ai', 'plugin');
    expect(realpathSync(installed)).toBe(realpathSync(plugin.dir));
    const lock = JSON.parse(readFileSync(path.join(config, 'package-lock.json'), 'utf8'));
    expect(lock.packages[''].dependencies).toEqual({ '@opencode-ai/plugin': '1.2.3' });
    expect(await prepareConfigDir(config, '1.2.3', log, plugin)).toBe('ready');
  });

  it('is linked again when the project moved or upgraded the package', async () => {
    const root = await makeTempDir('plugin');
    dirs.push(root);
    const config = path.join(root, 'config', 'opencode');
    await prepareConfigDir(config, '1.2.3', log, await fakePlugin(path.join(root, 'old'), '1.2.3'));
    await rm(path.join(root, 'old'), { recursive: true });
    const moved = await fakePlugin(path.join(root, 'new'), '1.2.4');
    warnings.length = 0;
    expect(await prepareConfigDir(config, '1.2.3', log, moved)).toBe('linked');
    expect(realpathSync(path.join(config, 'node_modules', '@opencode-ai', 'plugin'))).toBe(realpathSync(moved.dir));
    expect(JSON.parse(readFileSync(path.join(config, 'package-lock.json'), 'utf8')).packages[''].dependencies).toEqual({
      '@opencode-ai/plugin': '1.2.4',
    });
    expect(JSON.stringify(warnings)).toContain('differ in version');
  });
});
