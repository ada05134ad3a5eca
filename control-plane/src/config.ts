import { isIP } from 'node:net';
import path from 'node:path';
import { isTimeZone } from '@switchboard/protocol';
import { z } from 'zod';

const Port = z.coerce.number().int().min(0).max(65535);
const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
const count = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/** proxy-addr's names for address ranges, accepted alongside addresses and CIDRs. */
const PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isProxyEntry(entry: string): boolean {
  if (PROXY_RANGES.has(entry)) return true;
  const [address, bits, extra] = entry.split('/');
  const family = address ? isIP(address) : 0;
  if (family === 0 || extra !== undefined) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
}

/**
 * Fastify's `trustProxy`: off, or the addresses of the proxies in front. Never "trust anyone",
 * and no hop count: neither can tell a proxy from a client that forged X-Forwarded-For itself.
 */
const TrustProxy = z
  .string()
  .trim()
  .transform((value, ctx): false | string[] => {
    if (/^(off|false)$/i.test(value)) return false;
    const entries = value
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
    if (entries.length > 0 && entries.every(isProxyEntry)) return entries;
    ctx.addIssue({
      code: 'custom',
      message:
        'must be off or a comma-separated list of proxy addresses or CIDRs (or loopback, linklocal, uniquelocal); "true" and hop counts are refused because they would believe an X-Forwarded-For any client can forge',
    });
    return z.NEVER;
  });

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
    SWITCHBOARD_TRUST_PROXY: TrustProxy.default(false).describe(
      'Reverse proxies whose X-Forwarded-For names the client address: off, or their addresses/CIDRs (comma-separated)',
    ),
    SWITCHBOARD_AUDIT_MIN_RETENTION_DAYS: count(1, 36_500, 30).describe(
      'Audit rows younger than this many days are never removed: retention refuses a newer "before"',
    ),
    SWITCHBOARD_AUDIT_ANCHOR_INTERVAL_S: count(5, 86_400, 60).describe(
      'How often the audit chain is checked and its head signed into <data dir>/audit-anchor.json',
    ),
    SWITCHBOARD_AUDIT_PROMPTS: z
      .enum(['full', 'hash'])
      .default('full')
      .describe('Store prompt text in the audit trail, or only its SHA-256 and length'),
    SWITCHBOARD_MASTER_KEY: z
      .string()
      .refine((value) => decodeMasterKey(value) !== undefined, 'must be 32 bytes as 64 hex characters or base64')
      .optional()
      .describe('Vault master key; unset: a key file created in the data dir'),
    SWITCHBOARD_BUDGET_TIMEZONE: z
      .string()
      .refine(isTimeZone, 'must be an IANA time zone such as UTC or Europe/Berlin')
      .default('UTC')
      .describe('Time zone whose calendar days, weeks and months budgets roll over on'),
    SWITCHBOARD_RESERVATION_TTL_S: count(60, 86_400, 3600).describe(
      'Release the reservation of a call that never finished after this long',
    ),
    SWITCHBOARD_GATEWAY_SESSION_RPM: count(1, 100_000, 120).describe('Model calls one session may make per minute'),
    SWITCHBOARD_GATEWAY_BODY_LIMIT_BYTES: count(1024, 512 * 1024 * 1024, 32 * 1024 * 1024).describe('Largest model request accepted'),
    SWITCHBOARD_UPSTREAM_TIMEOUT_S: count(1, 3600, 600).describe('Longest wait for a provider to answer or send the next chunk'),
    SWITCHBOARD_HARNESS: z
      .enum(['inline', 'off'])
      .default('inline')
      .describe('inline: run the shared OpenCode; off: no agent runtime (admin API and gateway only)'),
    SWITCHBOARD_HARNESS_MAX_RSS_MB: count(256, 1_048_576, 4096).describe(
      'Recycle the shared OpenCode above this resident memory (MiB, whole process tree)',
    ),
    SWITCHBOARD_ALLOWED_HOSTS: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9.:_\-[\], ]*$/, 'must be a comma-separated list of host names or addresses')
      .default('')
      .describe(
        'Hosts on this machine or a private network the control plane may still reach for providers, MCP servers and git (comma-separated)',
      ),
    SWITCHBOARD_HARNESS_USER: z
      .string()
      .regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a system user name such as switchboard-harness')
      .default('switchboard-harness')
      .describe('When the control plane runs as root: the unprivileged system user OpenCode and its commands run as (created if missing)'),
    SWITCHBOARD_HARNESS_WAIT_S: count(0, 600, 30).describe(
      'How long a new session or prompt waits for an agent runtime that is starting or restarting',
    ),
    SWITCHBOARD_APPROVAL_TIMEOUT_S: count(1, 86_400, 600).describe('Reject a tool approval nobody answered after this long'),
    SWITCHBOARD_SCHEDULE_CATCHUP_S: count(0, 7 * 86_400, 3600).describe(
      'A scheduled run missed while no control plane ran still runs once if it is at most this old (0: never)',
    ),
    SWITCHBOARD_SCHEDULE_MIN_INTERVAL_S: count(1, 86_400, 60).describe('Shortest interval a schedule may fire at'),
    SWITCHBOARD_SCHEDULE_MAX_RUN_S: count(10, 7 * 86_400, 3600).describe('Stop a scheduled run (and fail it) after this long'),
    SWITCHBOARD_DEFAULT_MODEL: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe('Model of new sessions that name none (default: the first enabled model)'),
    SWITCHBOARD_GATEWAY_URL: z.url().optional().describe('How the harness reaches this control plane (default: its own listening address)'),
    SWITCHBOARD_UPLOAD_LIMIT_BYTES: count(1024, 2 * 1024 * 1024 * 1024, 50 * 1024 * 1024).describe('Largest workspace upload or clone'),
    SWITCHBOARD_MAX_SESSIONS_PER_USER: count(1, 100_000, 200).describe('Open (not archived) sessions one user may have'),
    SWITCHBOARD_MAX_PENDING_UPLOADS_PER_USER: count(1, 1000, 5).describe(
      'Uploads not yet used by a session one user may hold (together at most twice the upload limit in bytes)',
    ),
    SWITCHBOARD_WS_CONNECTIONS_PER_USER: count(1, 10_000, 20).describe('Open WebSocket connections one user may have per control plane'),
    SWITCHBOARD_WS_MAX_MESSAGE_BYTES: count(1024, 256 * 1024 * 1024, 4 * 1024 * 1024).describe('Largest WebSocket message accepted'),
    SWITCHBOARD_WS_MESSAGES_PER_SECOND: count(1, 100_000, 200).describe('Messages one WebSocket client may send per second'),
    SWITCHBOARD_WS_MAX_BUFFERED_BYTES: count(64 * 1024, 1024 * 1024 * 1024, 8 * 1024 * 1024).describe(
      'Unsent bytes per WebSocket before a slow client is told to resubscribe',
    ),
    SWITCHBOARD_MEMORY_NOTE_MAX_BYTES: count(64, 1024 * 1024, 16 * 1024).describe('Largest single agent memory note'),
    SWITCHBOARD_MEMORY_TOTAL_MAX_BYTES: count(1024, 64 * 1024 * 1024, 256 * 1024).describe(
      'Total size of the memory notes of one agent for one user',
    ),
    ANTHROPIC_API_KEY: z.string().min(8).optional().describe('Imported once into the vault as the "anthropic" provider'),
    OPENAI_API_KEY: z.string().min(8).optional().describe('Imported once into the vault as the "openai" provider'),
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
    trustProxy: env.SWITCHBOARD_TRUST_PROXY,
    auditMinRetentionDays: env.SWITCHBOARD_AUDIT_MIN_RETENTION_DAYS,
    auditAnchorIntervalS: env.SWITCHBOARD_AUDIT_ANCHOR_INTERVAL_S,
    auditPrompts: env.SWITCHBOARD_AUDIT_PROMPTS,
    masterKey: env.SWITCHBOARD_MASTER_KEY ? decodeMasterKey(env.SWITCHBOARD_MASTER_KEY) : undefined,
    budgetTimeZone: env.SWITCHBOARD_BUDGET_TIMEZONE,
    reservationTtlS: env.SWITCHBOARD_RESERVATION_TTL_S,
    gatewaySessionRpm: env.SWITCHBOARD_GATEWAY_SESSION_RPM,
    gatewayBodyLimitBytes: env.SWITCHBOARD_GATEWAY_BODY_LIMIT_BYTES,
    upstreamTimeoutS: env.SWITCHBOARD_UPSTREAM_TIMEOUT_S,
    importKeys: { anthropic: env.ANTHROPIC_API_KEY, openai: env.OPENAI_API_KEY },
    harness: env.SWITCHBOARD_HARNESS,
    harnessMaxRssBytes: env.SWITCHBOARD_HARNESS_MAX_RSS_MB * 1024 * 1024,
    harnessUser: env.SWITCHBOARD_HARNESS_USER,
    outbound: {
      allowedHosts: new Set(
        env.SWITCHBOARD_ALLOWED_HOSTS.split(',')
          .map((host) =>
            host
              .trim()
              .replace(/^\[|\]$/g, '')
              .toLowerCase(),
          )
          .filter(Boolean),
      ),
    },
    harnessWaitS: env.SWITCHBOARD_HARNESS_WAIT_S,
    approvalTimeoutS: env.SWITCHBOARD_APPROVAL_TIMEOUT_S,
    scheduleCatchUpS: env.SWITCHBOARD_SCHEDULE_CATCHUP_S,
    scheduleMinIntervalS: env.SWITCHBOARD_SCHEDULE_MIN_INTERVAL_S,
    scheduleMaxRunS: env.SWITCHBOARD_SCHEDULE_MAX_RUN_S,
    defaultModel: env.SWITCHBOARD_DEFAULT_MODEL,
    gatewayUrl: env.SWITCHBOARD_GATEWAY_URL?.replace(/\/+$/, ''),
    uploadLimitBytes: env.SWITCHBOARD_UPLOAD_LIMIT_BYTES,
    maxSessionsPerUser: env.SWITCHBOARD_MAX_SESSIONS_PER_USER,
    maxPendingUploadsPerUser: env.SWITCHBOARD_MAX_PENDING_UPLOADS_PER_USER,
    wsConnectionsPerUser: env.SWITCHBOARD_WS_CONNECTIONS_PER_USER,
    wsMaxMessageBytes: env.SWITCHBOARD_WS_MAX_MESSAGE_BYTES,
    wsMessagesPerSecond: env.SWITCHBOARD_WS_MESSAGES_PER_SECOND,
    wsMaxBufferedBytes: env.SWITCHBOARD_WS_MAX_BUFFERED_BYTES,
    memoryLimits: { noteBytes: env.SWITCHBOARD_MEMORY_NOTE_MAX_BYTES, totalBytes: env.SWITCHBOARD_MEMORY_TOTAL_MAX_BYTES },
  }));
export type Config = z.output<typeof ConfigSchema>;

/** 32 bytes given as 64 hex characters or as base64 (standard or url-safe). */
export function decodeMasterKey(value: string): Buffer | undefined {
  const trimmed = value.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  return bytes.length === 32 ? bytes : undefined;
}

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
    const secret = name === 'DATABASE_URL' || name.endsWith('_KEY');
    const shown = secret ? '(hidden)' : JSON.stringify(env[name]);
    return `  ${name}=${shown}: ${issue.message}`;
  });
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}\nFix these environment variables and start again.`);
}
