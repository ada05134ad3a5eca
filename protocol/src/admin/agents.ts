import { z } from 'zod';
import { Id, Timestamp, WorkspacePath } from '../common.js';
import { ApprovalPolicy } from '../policy.js';
import { Micros } from './budgets.js';

/** Lowercase letters, digits, dashes and underscores: the name sessions select the agent by. */
export const AgentName = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'Use lowercase letters, digits, dashes or underscores')
  .describe('Unique among live agents; `session/create` selects the agent by it');

/** A secret kept in the vault (`/api/v1/secrets`), named where a plain value would go. */
export const SecretName = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'Use letters, digits, dashes or underscores, starting with a letter');

/** A plain string, or a reference to a vault secret that is resolved only when a session starts. */
export const SecretValue = z.union([
  z.string().max(4000),
  z.strictObject({
    secret: SecretName.describe('Name of a secret in /api/v1/secrets'),
    prefix: z.string().max(200).optional().describe('Text before the value, e.g. "Bearer "'),
  }),
]);
export type SecretValue = z.infer<typeof SecretValue>;

const EnvName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'An environment variable name');
const HeaderName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'An HTTP header name');

/** MCP server names become tool prefixes (`<server>_<tool>`); `memory` is the control plane's own. */
export const McpServerName = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[a-z][a-z0-9-]*$/, 'Use lowercase letters, digits and dashes, starting with a letter')
  .refine((name) => name !== 'memory', 'The name "memory" is reserved for the agent memory server');

export const McpServer = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('local'),
    command: z.array(z.string().min(1).max(4000)).min(1).max(100).describe('Program and arguments, started over stdio in the workspace'),
    environment: z.record(EnvName, SecretValue).default({}).describe('Extra environment; values may name vault secrets'),
    timeoutMs: z.number().int().min(100).max(600_000).optional(),
  }),
  z.strictObject({
    type: z.literal('remote'),
    url: z
      .url({ protocol: /^https?$/ })
      .max(2000)
      .describe('A streamable-HTTP MCP endpoint; the control plane forwards to it'),
    headers: z.record(HeaderName, SecretValue).default({}).describe('Sent by the control plane, never written to the workspace'),
    timeoutMs: z.number().int().min(100).max(600_000).optional(),
  }),
]);
export type McpServer = z.infer<typeof McpServer>;

export const SkillName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'Use lowercase letters, digits and dashes');

/** A named bundle of instructions and files, written only into the workspaces of this agent's sessions. */
export const Skill = z
  .strictObject({
    name: SkillName,
    description: z.string().max(1000).default('').describe('One line: when this skill applies'),
    instructions: z.string().min(1).max(200_000).describe('Markdown; becomes SKILL.md and part of the system prompt'),
    files: z
      .array(z.strictObject({ path: WorkspacePath, content: z.string().max(1_000_000).describe('UTF-8 text') }))
      .max(100)
      .default([])
      .describe('Files beside SKILL.md, under .switchboard/skills/<name>/'),
  })
  .refine((skill) => !skill.files.some((file) => file.path === 'SKILL.md'), {
    message: 'SKILL.md is written from instructions; name the file differently',
    path: ['files'],
  })
  .refine((skill) => new Set(skill.files.map((file) => file.path)).size === skill.files.length, {
    message: 'File paths must be unique',
    path: ['files'],
  });
export type Skill = z.infer<typeof Skill>;

const SPEC_FIELDS = {
  description: z.string().max(2000).describe('What the agent is for'),
  model: z.string().trim().min(1).max(100).nullable().describe('Default model of its sessions (a name from /api/v1/models)'),
  systemPrompt: z.string().min(1).max(200_000).describe('Becomes the system prompt of its sessions'),
  toolPolicy: ApprovalPolicy.nullable().describe('allow / ask / deny per tool and pattern; null: the team or built-in policy'),
  skills: z
    .array(Skill)
    .max(50)
    .refine((skills) => new Set(skills.map((skill) => skill.name)).size === skills.length, 'Skill names must be unique'),
  mcpServers: z.record(McpServerName, McpServer).describe('MCP servers by name; their tools are named <server>_<tool>'),
  memory: z.boolean().describe('Give its sessions durable notes per user (memory_list/read/write/delete tools)'),
  maxBudgetPerSessionMicros: Micros.nullable().describe('Model spend after which a session of this agent is refused further calls'),
};

/** What each version of an agent holds; every change makes a new, immutable version. */
export const AgentSpec = z.strictObject({
  description: SPEC_FIELDS.description.default(''),
  model: SPEC_FIELDS.model.default(null),
  systemPrompt: SPEC_FIELDS.systemPrompt,
  toolPolicy: SPEC_FIELDS.toolPolicy.default(null),
  skills: SPEC_FIELDS.skills.default([]),
  mcpServers: SPEC_FIELDS.mcpServers.default({}),
  memory: SPEC_FIELDS.memory.default(false),
  maxBudgetPerSessionMicros: SPEC_FIELDS.maxBudgetPerSessionMicros.default(null),
});
export type AgentSpec = z.infer<typeof AgentSpec>;

const TeamVisibility = Id.nullable().describe('null: everyone; else members of that team (and admins)');

export const CreateAgentBody = AgentSpec.extend({ name: AgentName, teamId: TeamVisibility.default(null) });
export type CreateAgentBody = z.input<typeof CreateAgentBody>;

export const UpdateAgentBody = z
  .strictObject({
    name: AgentName.optional(),
    teamId: TeamVisibility.optional(),
    description: SPEC_FIELDS.description.optional(),
    model: SPEC_FIELDS.model.optional(),
    systemPrompt: SPEC_FIELDS.systemPrompt.optional(),
    toolPolicy: SPEC_FIELDS.toolPolicy.optional(),
    skills: SPEC_FIELDS.skills.optional(),
    mcpServers: SPEC_FIELDS.mcpServers.optional(),
    memory: SPEC_FIELDS.memory.optional(),
    maxBudgetPerSessionMicros: SPEC_FIELDS.maxBudgetPerSessionMicros.optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'Give at least one field to change' });
export type UpdateAgentBody = z.infer<typeof UpdateAgentBody>;

/** An agent at one version. Secret references show their names, never values. */
export const Agent = z.object({
  id: Id,
  name: z.string(),
  teamId: Id.nullable(),
  version: z.number().int().positive(),
  currentVersion: z.number().int().positive(),
  ...AgentSpec.shape,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  archivedAt: Timestamp.nullable(),
});
export type Agent = z.infer<typeof Agent>;

/** What lists show (and the extension's agent picker): no prompts, skills or server settings. */
export const AgentSummary = z.object({
  id: Id,
  name: z.string(),
  description: z.string(),
  model: z.string().nullable(),
  version: z.number().int().positive(),
  teamId: Id.nullable(),
  memory: z.boolean(),
});
export type AgentSummary = z.infer<typeof AgentSummary>;

export const AgentList = z.object({ items: z.array(AgentSummary) });
export type AgentList = z.infer<typeof AgentList>;

export const AgentQuery = z.strictObject({
  version: z.coerce.number().int().positive().optional().describe('An earlier version; default the current one'),
});
export type AgentQuery = z.infer<typeof AgentQuery>;

export const AgentVersionList = z.object({
  items: z.array(z.object({ version: z.number().int(), createdAt: Timestamp, createdBy: Id.nullable() })),
});
export type AgentVersionList = z.infer<typeof AgentVersionList>;
