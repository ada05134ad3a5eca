/** PostgreSQL SQLSTATE codes we act on; see the PostgreSQL "Errcodes" appendix. */
const UNIQUE_VIOLATION = '23505';
const FOREIGN_KEY_VIOLATION = '23503';

function sqlState(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

export const isUniqueViolation = (error: unknown) => sqlState(error) === UNIQUE_VIOLATION;
export const isForeignKeyViolation = (error: unknown) => sqlState(error) === FOREIGN_KEY_VIOLATION;

/** The client's own codes for a connection that failed or broke, and PostgreSQL's "shutting down / starting" states. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOENT',
  'EPIPE',
  'ETIMEDOUT',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
]);

/** The database is unreachable (down, restarting, or the connection broke): the caller should answer 503 UNAVAILABLE, not 500. */
export const isConnectionError = (error: unknown): boolean => {
  const code = sqlState(error);
  return code !== undefined && CONNECTION_CODES.has(code);
};

export const DATABASE_UNAVAILABLE = 'The database is not reachable right now (it may be restarting). Try again in a moment.';
