import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { bootstrapAdmin } from './auth/bootstrap.js';
import { type Config, loadConfig } from './config.js';
import { type Database, openDatabase } from './db/client.js';
import { migrate } from './db/migrate.js';
import { createLogger, type Logger } from './logger.js';

export interface RunningServer {
  app: FastifyInstance;
  db: Database;
  url: string;
  config: Config;
  close(): Promise<void>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Where the one-time admin token line goes (stdout by default). */
  print?: (line: string) => void;
}

/** Opens the database, migrates, bootstraps the first admin, and listens. */
export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const config = loadConfig(options.env);
  const log = options.logger ?? createLogger(config.logLevel);
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  await mkdir(config.dataDir, { recursive: true, mode: 0o711 });
  const releaseLock = await lockDataDir(config.dataDir);
  let db: Database | undefined;
  try {
    db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log });
    await migrate(db.sql, log);
    const app = await buildApp({ config, sql: db.sql, logger: log });
    await app.providers.importEnvironmentKeys(config.importKeys);
    const admin = await bootstrapAdmin({ sql: db.sql, audit: app.audit, email: config.adminEmail, dataDir: config.dataDir });
    const address = await app.listen({ host: config.host, port: config.port });
    if (admin) {
      print(`Admin token: ${admin.token}`);
      print(`(shown once; also saved to ${admin.file} with mode 0600)`);
    }
    print(`Switchboard control plane listening on ${address} (API docs: ${address}/docs)`);
    // The agent runtime starts after the server listens (it needs the gateway's address) and does not delay it.
    app.startAgents(address).then(
      () => app.harness && log.info('agent runtime ready'),
      (error: unknown) => log.error({ err: error }, 'the agent runtime did not start; sessions are unavailable until it does'),
    );
    const opened = db;
    let closing: Promise<void> | undefined;
    return {
      app,
      db: opened,
      url: address,
      config,
      /** Never throws: each step runs even when an earlier one failed (a database that died first, say). */
      close: () => {
        closing ??= (async () => {
          await app.close().catch((error: unknown) => log.error({ err: error }, 'closing the app failed'));
          await opened.close();
          await releaseLock().catch((error: unknown) => log.warn({ err: error }, 'could not remove the data dir lock'));
        })();
        return closing;
      },
    };
  } catch (error) {
    await db?.close().catch(() => {});
    await releaseLock();
    throw error;
  }
}

/**
 * One control plane per data dir: a second one would fight over the embedded database. A lock
 * left by a crashed process (its pid is gone) is taken over.
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const file = path.join(dataDir, 'control-plane.pid');
  const existing = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  if (existing && existing !== process.pid && isAlive(existing)) {
    throw new Error(
      `Another Switchboard control plane (pid ${existing}) is running on ${dataDir}. Stop it, or set SWITCHBOARD_DATA_DIR to another directory.`,
    );
  }
  await writeFile(file, `${process.pid}\n`, { mode: 0o600 });
  return () => rm(file, { force: true });
}

/** A live, non-zombie process still running Node (a reused pid running something else does not count). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('node');
  } catch {
    return false;
  }
}
