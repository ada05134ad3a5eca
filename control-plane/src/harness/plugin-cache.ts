import { existsSync, readFileSync } from 'node:fs';
import { lstat, mkdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { Logger } from '../logger.js';

const PLUGIN = '@opencode-ai/plugin';
const PackageJson = z.object({ name: z.string(), version: z.string() });

/** Where `npm install` put the plugin package that the control plane depends on. */
export function bundledPluginDir(): { dir: string; version: string } {
  let dir = path.dirname(fileURLToPath(import.meta.resolve(PLUGIN)));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const parsed = PackageJson.safeParse(JSON.parse(readFileSync(file, 'utf8')));
      if (parsed.success && parsed.data.name === PLUGIN) return { dir, version: parsed.data.version };
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`${PLUGIN} is not installed next to the control plane; run npm install.`);
    dir = parent;
  }
}

/**
 * OpenCode installs `@opencode-ai/plugin` from the package registry into every config directory it
 * loads, unless the directory already has a node_modules folder and a package-lock.json whose root
 * lists the package (it compares names only). The package is a dependency of the control plane, so
 * we link the copy `npm install` brought into the harness's config directory and write the lock
 * that describes it: starting the harness needs no registry and no npm cache on any machine.
 */
export async function prepareConfigDir(
  configDir: string,
  opencodeVersion: string,
  log: Logger,
  plugin: { dir: string; version: string } = bundledPluginDir(),
): Promise<'ready' | 'linked'> {
  if (plugin.version !== opencodeVersion)
    log.warn({ plugin: plugin.version, opencode: opencodeVersion }, `${PLUGIN} and opencode-ai differ in version; pin them alike`);
  const link = path.join(configDir, 'node_modules', ...PLUGIN.split('/'));
  const lockFile = path.join(configDir, 'package-lock.json');
  if ((await currentLink(link)) === plugin.dir && (await locksPlugin(lockFile, plugin.version))) return 'ready';

  await mkdir(path.dirname(link), { recursive: true });
  await rm(link, { recursive: true, force: true });
  await symlink(plugin.dir, link, 'dir');
  await writeFile(
    path.join(configDir, 'package.json'),
    `${JSON.stringify({ private: true, dependencies: { [PLUGIN]: plugin.version } }, null, 2)}\n`,
  );
  const lock = {
    name: 'opencode-config',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { dependencies: { [PLUGIN]: plugin.version } },
      [`node_modules/${PLUGIN}`]: { resolved: plugin.dir, link: true },
      [plugin.dir]: { name: PLUGIN, version: plugin.version },
    },
  };
  await writeFile(lockFile, `${JSON.stringify(lock, null, 2)}\n`);
  return 'linked';
}

async function currentLink(link: string): Promise<string | null> {
  const info = await lstat(link).catch(() => null);
  if (!info?.isSymbolicLink() || !existsSync(link)) return null;
  return path.resolve(path.dirname(link), await readlink(link));
}

const Lock = z.object({
  packages: z.object({ '': z.object({ dependencies: z.record(z.string(), z.string()).optional() }) }),
});

async function locksPlugin(lockFile: string, version: string): Promise<boolean> {
  const text = await readFile(lockFile, 'utf8').catch(() => null);
  if (text === null) return false;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return false;
  }
  const parsed = Lock.safeParse(json);
  return parsed.success && parsed.data.packages[''].dependencies?.[PLUGIN] === version;
}
