import { z } from 'zod';
import { Id, isTimeZone, Timestamp } from '../common.js';

const NICKNAMES = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@hourly'];

/** Five fields (minute precision) or six (the first is seconds), or a nickname; the server checks the values. */
export const CronExpression = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .refine((value) => NICKNAMES.includes(value.toLowerCase()) || [5, 6].includes(value.split(/\s+/).length), {
    message: 'Use five fields (minute hour day month weekday), six with seconds first, or @hourly/@daily/@weekly/@monthly/@yearly',
  })
  .describe('Cron expression: `m h dom mon dow`, or `s m h dom mon dow`, or a nickname such as @daily');

export const TimeZone = z
  .string()
  .min(1)
  .max(100)
  .refine(isTimeZone, 'Must be an IANA time zone such as UTC or Europe/Berlin')
  .describe('IANA time zone the cron expression is read in');

/** Allow or deny only: a scheduled run has nobody to ask. */
export const ScheduleRule = z.strictObject({
  tool: z.string().min(1).max(100).describe('Tool or permission name (bash, edit, webfetch, …) or a glob'),
  pattern: z.string().min(1).max(1000).default('*').describe('Glob over what the tool acts on: a command, a path, a URL'),
  action: z.enum(['allow', 'deny'], { message: 'Scheduled runs cannot ask: use allow or deny' }),
});
export type ScheduleRule = z.infer<typeof ScheduleRule>;
export const SchedulePolicy = z.array(ScheduleRule).max(200);
export type SchedulePolicy = z.infer<typeof SchedulePolicy>;

/** Where each run's workspace comes from: empty, or a fresh clone (https; a server path for admins only). */
export const ScheduleWorkspace = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('empty') }),
  z.strictObject({
    kind: z.literal('git'),
    url: z.string().min(1).max(2000).describe('https URL, or (admins) a path on the server'),
    ref: z
      .string()
      .regex(/^[A-Za-z0-9._/-]{1,200}$/, 'Must be a branch or tag name')
      .optional(),
  }),
]);
export type ScheduleWorkspace = z.infer<typeof ScheduleWorkspace>;

export const ScheduleRunStatus = z.enum(['running', 'succeeded', 'failed', 'skipped']);
export type ScheduleRunStatus = z.infer<typeof ScheduleRunStatus>;
/** `cron`: on time; `catch-up`: late, after the control plane was down; `manual`: POST …/run. */
export const ScheduleRunTrigger = z.enum(['cron', 'catch-up', 'manual']);
export type ScheduleRunTrigger = z.infer<typeof ScheduleRunTrigger>;

export const ScheduleRun = z.object({
  id: Id,
  scheduleId: Id,
  scheduledFor: Timestamp.describe('The cron slot this run is for (the request time for manual runs)'),
  trigger: ScheduleRunTrigger,
  status: ScheduleRunStatus,
  reason: z.string().nullable().describe('Why it failed or was skipped, in plain words; for catch-up runs, how late it is'),
  sessionId: Id.nullable().describe('The session the run created; null when it never started one'),
  startedAt: Timestamp,
  finishedAt: Timestamp.nullable(),
});
export type ScheduleRun = z.infer<typeof ScheduleRun>;

export const Schedule = z.object({
  id: Id,
  name: z.string(),
  ownerId: Id,
  teamId: Id.nullable(),
  agent: z.string(),
  model: z.string().nullable(),
  prompt: z.string(),
  workspace: ScheduleWorkspace,
  policy: SchedulePolicy.nullable(),
  cron: z.string(),
  timeZone: z.string(),
  enabled: z.boolean(),
  nextRunAt: Timestamp.nullable().describe('Next slot; null when disabled'),
  lastRun: ScheduleRun.nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Schedule = z.infer<typeof Schedule>;

const ScheduleName = z.string().trim().min(1).max(120);
const Prompt = z.string().min(1).max(200_000);
const AgentName = z.string().trim().min(1).max(100);

export const CreateScheduleBody = z.strictObject({
  name: ScheduleName.describe('Unique per owner'),
  prompt: Prompt.describe('Sent as the first prompt of every run'),
  cron: CronExpression,
  timeZone: TimeZone.default('UTC'),
  agent: AgentName.default('build').describe('A defined agent, or OpenCode’s built-in `build`'),
  model: z.string().max(100).optional().describe('A model name from /api/v1/models; default: the server default'),
  teamId: Id.optional().describe('Share each run’s session with this team (the owner must belong to it)'),
  workspace: ScheduleWorkspace.default({ kind: 'empty' }),
  policy: SchedulePolicy.optional().describe('Rules added after the team (or built-in) policy; every remaining `ask` is a deny'),
  enabled: z.boolean().default(true),
  ownerId: Id.optional().describe('Admins only: whose schedule it is (default: the caller)'),
});
export type CreateScheduleBody = z.input<typeof CreateScheduleBody>;

export const UpdateScheduleBody = z
  .strictObject({
    name: ScheduleName.optional(),
    prompt: Prompt.optional(),
    cron: CronExpression.optional(),
    timeZone: TimeZone.optional(),
    agent: AgentName.optional(),
    model: z.string().max(100).nullable().optional(),
    teamId: Id.nullable().optional(),
    workspace: ScheduleWorkspace.optional(),
    policy: SchedulePolicy.nullable().optional(),
    enabled: z.boolean().optional(),
    ownerId: Id.optional().describe('Admins only'),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'Give at least one field to change' });
export type UpdateScheduleBody = z.infer<typeof UpdateScheduleBody>;

export const ScheduleListQuery = z.strictObject({
  ownerId: Id.optional().describe('Admins and viewers: one owner’s schedules (default: everyone’s)'),
  limit: z.coerce.number().int().min(1).max(500).default(200),
});
export type ScheduleListQuery = z.infer<typeof ScheduleListQuery>;

export const ScheduleList = z.object({ items: z.array(Schedule) });
export type ScheduleList = z.infer<typeof ScheduleList>;

export const ScheduleRunsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z
    .string()
    .regex(/^\d{4}-\d\d-\d\dT[\d:.]+Z~[0-9a-f-]{36}$/, 'Pass back `nextCursor` unchanged')
    .optional(),
});
export type ScheduleRunsQuery = z.infer<typeof ScheduleRunsQuery>;

export const ScheduleRunPage = z.object({ items: z.array(ScheduleRun), nextCursor: z.string().nullable() });
export type ScheduleRunPage = z.infer<typeof ScheduleRunPage>;

/** `schedule/run`: sent to every connection of the owner when a run ends (or a slot is skipped). */
export const ScheduleRunNotification = z.object({
  scheduleId: Id,
  scheduleName: z.string(),
  runId: Id,
  sessionId: Id.nullable(),
  status: z.enum(['succeeded', 'failed', 'skipped']),
  reason: z.string().nullable(),
  trigger: ScheduleRunTrigger,
  scheduledFor: Timestamp,
  finishedAt: Timestamp,
});
export type ScheduleRunNotification = z.infer<typeof ScheduleRunNotification>;
