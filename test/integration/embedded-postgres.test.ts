import { existsSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '../../control-plane/src/db/client.js';
import { startEmbeddedPostgres } from '../../control-plane/src/db/embedded-postgres.js';
import { quietLogger } from '../fixtures/database.js';
import { makeTempDir } from '../fixtures/temp.js';

const dirs: string[] = [];
async function tempDir(mode?: number) {
  const dir = await makeTempDir('pg', mode);
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('embedded PostgreSQL', () => {
  it('creates a cluster reachable only through its socket, keeps data across restarts', async () => {
    const dataDir = await tempDir();
    const first = await startEmbeddedPostgres({ dataDir, log: quietLogger() });
    try {
      expect(first.connection.host.startsWith(first.root) || first.connection.host.startsWith('/tmp/')).toBe(true);
      expect((await stat(path.join(dataDir, 'pg-password'))).mode & 0o777).toBe(0o600);
      expect((await stat(first.connection.host)).mode & 0o777).toBe(0o700);
      const conf = await readFile(path.join(first.root, 'data', 'pg_hba.conf'), 'utf8');
      expect(conf).toMatch(/scram-sha-256/);
      expect(conf).not.toMatch(/^\s*local\s+all\s+all\s+trust/m);
      const sql = connect(first.connection, 1);
      await sql`create table kept (value text)`;
      await sql`insert into kept values ('still here')`;
      await sql.end();
      const wrong = connect({ ...first.connection, password: 'wrong' }, 1);
      await expect(wrong`select 1`).rejects.toThrow(/password authentication failed/);
      await wrong.end();
    } finally {
      await first.stop();
    }
    expect(existsSync(path.join(first.root, 'data', 'postmaster.pid'))).toBe(false);

    const second = await startEmbeddedPostgres({ dataDir, log: quietLogger() });
    try {
      const sql = connect(second.connection, 1);
      expect(await sql`select value from kept`).toEqual([{ value: 'still here' }]);
      await sql.end();
    } finally {
      await second.stop();
    }
  });

  it('keeps the cluster outside a data dir its system user cannot enter, and drops it when that data dir is gone', async () => {
    const dataDir = await tempDir(0o700);
    const pg = await startEmbeddedPostgres({ dataDir, log: quietLogger() });
    await pg.stop();
    if (process.getuid?.() !== 0) {
      expect(pg.root).toBe(path.join(dataDir, 'pg'));
      return;
    }
    expect(pg.root.startsWith('/var/lib/switchboard/clusters/')).toBe(true);
    expect(existsSync(path.join(pg.root, 'data', 'PG_VERSION'))).toBe(true);
    // The data dir is deleted and made again: its old cluster must not be reused with a new password.
    await rm(dataDir, { recursive: true, force: true });
    await makeTempDirAt(dataDir);
    const again = await startEmbeddedPostgres({ dataDir, log: quietLogger() });
    try {
      const sql = connect(again.connection, 1);
      expect(await sql`select 1 as one`).toEqual([{ one: 1 }]);
      await sql.end();
    } finally {
      await again.stop();
      await rm(again.root, { recursive: true, force: true });
    }
  });

  it('refuses to touch a database whose password file is missing', async () => {
    const dataDir = await tempDir();
    const pg = await startEmbeddedPostgres({ dataDir, log: quietLogger() });
    await pg.stop();
    await rm(path.join(dataDir, 'pg-password'));
    await expect(startEmbeddedPostgres({ dataDir, log: quietLogger() })).rejects.toThrow(/password file .* is gone/);
    expect(existsSync(path.join(dataDir, 'pg', 'data', 'PG_VERSION'))).toBe(true);
  });
});

async function makeTempDirAt(dir: string) {
  const { mkdir, chmod } = await import('node:fs/promises');
  await mkdir(dir);
  await chmod(dir, 0o700);
}
