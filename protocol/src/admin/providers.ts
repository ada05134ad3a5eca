import { z } from 'zod';
import { Id, Timestamp } from '../common.js';

export const ProviderKind = z.enum(['anthropic', 'openai', 'openai-compatible']);
export type ProviderKind = z.infer<typeof ProviderKind>;

const BaseUrl = z
  .url({ protocol: /^https?$/ })
  .max(2000)
  .transform((value) => value.replace(/\/+$/, ''))
  .describe('Anthropic: https://api.anthropic.com; OpenAI: https://api.openai.com/v1; compatible: the URL that serves /chat/completions');
const ProviderName = z
  .string()
  .trim()
  .min(1)
  .max(60)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'Use lowercase letters, digits and dashes');
const ApiKey = z.string().trim().min(8).max(1000);

/** A provider as the API shows it: never its key, only the key's last four characters. */
export const Provider = z.object({
  id: Id,
  name: z.string(),
  kind: ProviderKind,
  baseUrl: z.string(),
  keyLast4: z.string().nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Provider = z.infer<typeof Provider>;

export const CreateProviderBody = z.strictObject({
  name: ProviderName,
  kind: ProviderKind,
  baseUrl: BaseUrl.optional().describe('Defaults to the official API for anthropic and openai; required for openai-compatible'),
  apiKey: ApiKey.optional().describe('Optional for local servers that need none'),
  seedModels: z.boolean().default(true).describe('Add the default models and prices of this kind'),
});
export type CreateProviderBody = z.input<typeof CreateProviderBody>;

export const UpdateProviderBody = z
  .strictObject({ name: ProviderName.optional(), baseUrl: BaseUrl.optional(), apiKey: ApiKey.nullable().optional() })
  .refine((body) => Object.keys(body).length > 0, { message: 'Give at least one of name, baseUrl, apiKey' });
export type UpdateProviderBody = z.infer<typeof UpdateProviderBody>;

export const ProviderList = z.object({ items: z.array(Provider) });
export type ProviderList = z.infer<typeof ProviderList>;

/** Prices in integer micro-dollars per million tokens ($3.00 per million = 3000000). */
export const ModelPrices = z.strictObject({
  input: z.number().int().min(0).max(1e12),
  output: z.number().int().min(0).max(1e12),
  cacheRead: z.number().int().min(0).max(1e12),
  cacheWrite: z.number().int().min(0).max(1e12),
});
export type ModelPrices = z.infer<typeof ModelPrices>;

const ModelName = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'Use letters, digits, dots, dashes, colons or underscores');

export const Model = z.object({
  id: Id,
  name: z.string(),
  providerId: Id,
  providerKind: ProviderKind,
  upstreamModel: z.string(),
  contextLimit: z.number().int(),
  outputLimit: z.number().int(),
  prices: ModelPrices,
  enabled: z.boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Model = z.infer<typeof Model>;

export const CreateModelBody = z.strictObject({
  name: ModelName.describe('The public name clients call'),
  providerId: Id,
  upstreamModel: z.string().trim().min(1).max(200).describe('The id the provider knows'),
  contextLimit: z.number().int().min(1).max(10_000_000),
  outputLimit: z.number().int().min(1).max(1_000_000),
  prices: ModelPrices,
  enabled: z.boolean().default(true),
});
export type CreateModelBody = z.input<typeof CreateModelBody>;

export const UpdateModelBody = z
  .strictObject({
    upstreamModel: z.string().trim().min(1).max(200).optional(),
    contextLimit: z.number().int().min(1).max(10_000_000).optional(),
    outputLimit: z.number().int().min(1).max(1_000_000).optional(),
    prices: ModelPrices.optional(),
    enabled: z.boolean().optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'Give at least one field to change' });
export type UpdateModelBody = z.infer<typeof UpdateModelBody>;

export const ModelList = z.object({ items: z.array(Model) });
export type ModelList = z.infer<typeof ModelList>;
