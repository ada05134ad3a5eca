#!/usr/bin/env node
// Compiles the extension-host mocha suite (test/e2e/suite/*.ts) to test/e2e/.build/suite/ as
// CommonJS for VS Code's Node: index.js (the `extensionTestsPath`) plus one bundle per *.e2e.ts.
// Shared by the vitest e2e tests (code-server) and scripts/test-electron.mjs (desktop VS Code).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SUITE_SOURCES = path.join(repo, 'test', 'e2e', 'suite');
export const SUITE_OUT = path.join(repo, 'test', 'e2e', '.build', 'suite');
const STAMP = '.inputs-sha256';

async function sourcesOf(dir) {
  const files = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts')) files.push(path.join(entry.parentPath, entry.name));
  }
  return files.sort();
}

/**
 * Builds unless the output already matches the sources (several test files may call this at
 * once: an unchanged suite is never rewritten under a running editor). Returns the entry for
 * `extensionTestsPath` (no extension) and the output dir.
 */
export async function buildE2eSuite() {
  const sources = await sourcesOf(SUITE_SOURCES);
  const hash = createHash('sha256').update(esbuild.version);
  for (const file of sources) hash.update(file).update(await readFile(file));
  const digest = hash.digest('hex');
  const result = { outDir: SUITE_OUT, entry: path.join(SUITE_OUT, 'index') };
  if ((await readFile(path.join(SUITE_OUT, STAMP), 'utf8').catch(() => '')) === digest) return result;

  const entryPoints = sources.filter((file) => path.dirname(file) === SUITE_SOURCES && /(^index|\.e2e)\.ts$/.test(path.basename(file)));
  const staging = `${SUITE_OUT}.tmp-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await esbuild.build({
    entryPoints,
    outdir: staging,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'mocha'],
    sourcemap: 'inline',
    logLevel: 'warning',
    absWorkingDir: repo,
  });
  // The repo's package.json says "type": "module"; these files are CommonJS.
  await writeFile(path.join(staging, 'package.json'), '{ "type": "commonjs" }\n');
  await writeFile(path.join(staging, STAMP), digest);
  await mkdir(path.dirname(SUITE_OUT), { recursive: true });
  const old = `${SUITE_OUT}.old-${process.pid}`;
  if (existsSync(SUITE_OUT)) await rename(SUITE_OUT, old);
  await rename(staging, SUITE_OUT);
  await rm(old, { recursive: true, force: true });
  return result;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { entry } = await buildE2eSuite();
  process.stdout.write(`${entry}\n`);
}
