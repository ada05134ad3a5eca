import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from '../control-plane/dist/db/client.js';
import { startEmbeddedPostgres } from '../control-plane/dist/db/embedded-postgres.js';
import { migrate } from '../control-plane/dist/db/migrate.js';
import { createLogger } from '../control-plane/dist/logger.js';

export const log = createLogger('warn');

/** A throwaway embedded PostgreSQL (or DATABASE_URL) with fresh, migrated databases on demand. */
export async function openBenchServer() {
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

export async function freshDatabase(server, name, max = 25) {
  const target = (database) =>
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
