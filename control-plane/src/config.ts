import path from 'node:path';
import { z } from 'zod';

const Port = z.coerce.number().int().min(0).max(65535);
const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** Every environment variable the control plane reads, parsed once at boot. */
export const ConfigSchema = z
  .object({
    SWITCHBOARD_HOST: z.string().min(1).default('127.0.0.1').describe('Interface the HTTP server binds to'),
    SWITCHBOARD_PORT: Port.default(7420).describe('HTTP port (0 picks a free one)'),
    SWITCHBOARD_DATA_DIR: z.string().min(1).default('./.switchboard').describe('Where the embedded database, keys and workspaces live'),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
      .optional()
      .describe('External PostgreSQL; unset to use the embedded one'),
    SWITCHBOARD_LOG_LEVEL: LogLevel.default('info').describe('Log verbosity'),
    SWITCHBOARD_ADMIN_EMAIL: z.email().default('admin@localhost').describe('Email of the admin created on first start'),
    SWITCHBOARD_BODY_LIMIT_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(512 * 1024 * 1024)
      .default(1024 * 1024)
      .describe('Largest accepted REST body'),
    SWITCHBOARD_AUTH_FAILURES_PER_MINUTE: z.coerce
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(30)
      .describe('Failed authentications allowed per client IP per minute before 429'),
    SWITCHBOARD_AUDIT_PROMPTS: z
      .enum(['full', 'hash'])
      .default('full')
      .describe('Store prompt text in the audit trail, or only its SHA-256 and length'),
  })
  .transform((env) => ({
    host: env.SWITCHBOARD_HOST,
    port: env.SWITCHBOARD_PORT,
    dataDir: path.resolve(env.SWITCHBOARD_DATA_DIR),
    databaseUrl: env.DATABASE_URL,
    logLevel: env.SWITCHBOARD_LOG_LEVEL,
    adminEmail: env.SWITCHBOARD_ADMIN_EMAIL.toLowerCase(),
    bodyLimitBytes: env.SWITCHBOARD_BODY_LIMIT_BYTES,
    authFailuresPerMinute: env.SWITCHBOARD_AUTH_FAILURES_PER_MINUTE,
    auditPrompts: env.SWITCHBOARD_AUDIT_PROMPTS,
  }));
export type Config = z.output<typeof ConfigSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; throws a `ConfigError` naming every bad variable and what it expects. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const relevant = Object.fromEntries(Object.entries(env).filter(([key, value]) => value !== '' && key in ConfigSchema.in.shape));
  const parsed = ConfigSchema.safeParse(relevant);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? 'environment');
    const shown = name === 'DATABASE_URL' ? '(hidden)' : JSON.stringify(env[name]);
    return `  ${name}=${shown}: ${issue.message}`;
  });
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}\nFix these environment variables and start again.`);
}
