import { describe, expect, it } from 'vitest';
import { migrate, readMigrations } from '../../control-plane/src/db/migrate.js';
import { createTestDatabase, quietLogger } from '../fixtures/database.js';

describe('migrations', () => {
  it('are numbered, unique and applied once even when two processes start together', async () => {
    const migrations = await readMigrations();
    expect(migrations.map((migration) => migration.version)).toEqual(migrations.map((_, index) => index + 1));
    const db = await createTestDatabase({ migrated: false });
    const other = db.connectAgain(2);
    try {
      const [first, second] = await Promise.all([migrate(db.sql, quietLogger()), migrate(other, quietLogger())]);
      expect([...first, ...second].sort()).toEqual(migrations.map((migration) => migration.name));
      expect(first.length === 0 || second.length === 0).toBe(true);
      const rows = await db.sql<{ version: number }[]>`select version from schema_migrations order by version`;
      expect(rows.map((row) => row.version)).toEqual(migrations.map((migration) => migration.version));
      expect(await migrate(db.sql, quietLogger())).toEqual([]);
    } finally {
      await other.end({ timeout: 5 });
      await db.drop();
    }
  });

  it('refuse to start when an applied migration was edited', async () => {
    const db = await createTestDatabase();
    try {
      const migrations = await readMigrations();
      const edited = migrations.map((migration, index) => (index === 0 ? { ...migration, checksum: 'edited' } : migration));
      await expect(migrate(db.sql, quietLogger(), edited)).rejects.toThrow(/001_foundation was changed after it was applied/);
    } finally {
      await db.drop();
    }
  });

  it('apply nothing at all when one migration fails', async () => {
    const db = await createTestDatabase({ migrated: false });
    try {
      const migrations = await readMigrations();
      const broken = [
        ...migrations,
        { version: 999, name: '999_broken', sql: 'create table ok_table (id int); select 1/0;', checksum: 'x' },
      ];
      await expect(migrate(db.sql, quietLogger(), broken)).rejects.toThrow(/division by zero/);
      const [row] = await db.sql<{ exists: boolean }[]>`select to_regclass('users') is not null as exists`;
      expect(row?.exists).toBe(false);
    } finally {
      await db.drop();
    }
  });
});
