// Bundles the extension host code (Node, CommonJS) and the chat webview (browser, IIFE) into dist/.
// Everything the extension needs at run time is bundled, so the .vsix carries no node_modules.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.dirname(fileURLToPath(import.meta.url));
const production = process.argv.includes('--production');
const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', absWorkingDir: root };

await rm(path.join(root, 'dist'), { recursive: true, force: true });
await mkdir(path.join(root, 'dist', 'webview'), { recursive: true });
await Promise.all([
  esbuild.build({
    ...common,
    entryPoints: ['src/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // `ws` loads these native speed-ups only when present.
    external: ['vscode', 'bufferutil', 'utf-8-validate'],
  }),
  esbuild.build({
    ...common,
    entryPoints: ['webview/main.ts'],
    outfile: 'dist/webview/main.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  }),
  esbuild.build({ ...common, sourcemap: false, entryPoints: ['webview/styles.css'], outfile: 'dist/webview/styles.css' }),
]);
