import postgres from 'postgres';
import type { Logger } from '../logger.js';
import { type EmbeddedPostgres, type PgConnection, startEmbeddedPostgres } from './embedded-postgres.js';

/** Our SQL handle: int8 columns come back as `bigint`, never as lossy numbers or strings. */
export type Sql = postgres.Sql<{ bigint: bigint }>;
export type TransactionSql = postgres.TransactionSql<{ bigint: bigint }>;
/** Either the pool or a transaction: repositories accept both so callers choose the transaction. */
export type Queryable = Sql | TransactionSql;

export interface Database {
  sql: Sql;
  /** Set when the control plane runs its own PostgreSQL. */
  embedded?: EmbeddedPostgres;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  databaseUrl?: string | undefined;
  dataDir: string;
  log: Logger;
  max?: number;
}

export function connect(target: string | PgConnection, max = 10): Sql {
  const options = {
    max,
    idle_timeout: 60,
    connect_timeout: 10,
    onnotice: () => {},
    types: { bigint: postgres.BigInt },
    connection: { application_name: 'switchboard' },
  };
  return (typeof target === 'string' ? postgres(target, options) : postgres({ ...target, ...options })) as unknown as Sql;
}

/** Opens DATABASE_URL when given, else starts the embedded PostgreSQL in the data dir. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    const sql = connect(options.databaseUrl, options.max);
    return { sql, close: () => sql.end({ timeout: 5 }) };
  }
  const embedded = await startEmbeddedPostgres({ dataDir: options.dataDir, log: options.log });
  const sql = connect(embedded.connection, options.max);
  return {
    sql,
    embedded,
    /** Never throws: a database that is already gone is simply stopped. */
    async close() {
      await sql.end({ timeout: 5 }).catch((error: unknown) => options.log.warn({ err: error }, 'closing the database pool failed'));
      await embedded.stop().catch((error: unknown) => options.log.error({ err: error }, 'stopping embedded PostgreSQL failed'));
    },
  };
}
