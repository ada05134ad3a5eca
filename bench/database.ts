import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, type Sql } from '@switchboard/control-plane/db/client.js';
import { type PgConnection, startEmbeddedPostgres } from '@switchboard/control-plane/db/embedded-postgres.js';
import { migrate } from '@switchboard/control-plane/db/migrate.js';
import { createLogger } from '@switchboard/control-plane/logger.js';

export const log = createLogger('warn');

export interface BenchServer {
  admin: string | PgConnection;
  stop(): Promise<void>;
}

/** A throwaway embedded PostgreSQL (or DATABASE_URL) with fresh, migrated databases on demand. */
export async function openBenchServer(): Promise<BenchServer> {
  if (process.env.DATABASE_URL) return { admin: process.env.DATABASE_URL, stop: async () => {} };
  const dir = await mkdtemp(path.join(tmpdir(), 'switchboard-bench-'));
  await chmod(dir, 0o755);
  const pg = await startEmbeddedPostgres({ dataDir: dir, log });
  return {
    admin: pg.connection,
    async stop() {
      await pg.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function freshDatabase(server: BenchServer, name: string, max = 25): Promise<Sql> {
  const target = (database: string) =>
    typeof server.admin === 'string'
      ? Object.assign(new URL(server.admin), { pathname: `/${database}` }).toString()
      : { ...server.admin, database };
  const admin = connect(target('postgres'), 1);
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const sql = connect(target(name), max);
  await migrate(sql, log);
  return sql;
}

export interface Row {
  section: string;
  figure: string;
  value: number;
  unit: string;
  ratio?: number;
  ratioOf?: string;
}
