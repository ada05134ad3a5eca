import { z } from 'zod';
import type { WireFormat } from './wire.js';

/**
 * The request bodies the gateway accepts, one allow-list per wire format. A field is listed only when
 * its cost is bounded by what the reservation counts (input bytes, max tokens × choices); anything
 * else (provider-side tools, audio output, fallback models, long-context or long-cache betas, priority
 * tiers …) is refused with a 400 rather than passed through to bill beyond the reservation.
 */

/** OpenAI's own ceiling on choices per call. */
export const MAX_CHOICES = 128;

const tokens = z.number().int().positive();
const text = z.string().max(10_000);

const OpenAITool = z.looseObject({
  type: z.enum(['function', 'custom'], {
    error: 'only function tools are accepted; provider-side tools (web or file search, code interpreter …) bill beyond tokens',
  }),
});

export const OpenAIRequest = z
  .strictObject({
    model: z.string().min(1).max(200),
    messages: z.array(z.unknown()).min(1).max(100_000),
    stream: z.boolean().nullish(),
    stream_options: z.strictObject({ include_usage: z.boolean().optional(), include_obfuscation: z.boolean().optional() }).nullish(),
    max_tokens: tokens.nullish(),
    max_completion_tokens: tokens.nullish(),
    n: z.number().int().min(1).max(MAX_CHOICES).nullish(),
    temperature: z.number().nullish(),
    top_p: z.number().nullish(),
    frequency_penalty: z.number().nullish(),
    presence_penalty: z.number().nullish(),
    stop: z.union([text, z.array(text).max(16)]).nullish(),
    seed: z.number().int().nullish(),
    logit_bias: z.record(z.string().max(20), z.number()).nullish(),
    logprobs: z.boolean().nullish(),
    top_logprobs: z.number().int().min(0).max(20).nullish(),
    response_format: z.looseObject({ type: z.enum(['text', 'json_object', 'json_schema']) }).nullish(),
    tools: z.array(OpenAITool).max(1000).nullish(),
    tool_choice: z.union([z.enum(['none', 'auto', 'required']), z.looseObject({ type: z.string().max(50) })]).nullish(),
    parallel_tool_calls: z.boolean().nullish(),
    reasoning_effort: z.string().max(20).nullish(),
    user: z.string().max(1000).nullish(),
    prompt_cache_key: z.string().max(1000).nullish(),
    safety_identifier: z.string().max(1000).nullish(),
  })
  .refine((request) => request.max_tokens == null || request.max_completion_tokens == null, {
    path: ['max_completion_tokens'],
    message: 'send max_tokens or max_completion_tokens, not both',
  });
export type OpenAIRequest = z.infer<typeof OpenAIRequest>;

/** Five-minute caching only: longer lifetimes bill cache writes above the model's cache-write price. */
const CacheControl = z.strictObject({ type: z.literal('ephemeral'), ttl: z.literal('5m').optional() });

const AnthropicTool = z.looseObject({
  type: z
    .literal('custom', { error: 'only your own tools are accepted; server tools and Anthropic-defined tools bill beyond tokens' })
    .nullish(),
  name: z.string().min(1).max(200),
});

export const AnthropicRequest = z
  .strictObject({
    model: z.string().min(1).max(200),
    messages: z.array(z.unknown()).min(1).max(100_000),
    max_tokens: tokens.optional(),
    stream: z.boolean().optional(),
    system: z.union([z.string(), z.array(z.unknown())]).optional(),
    metadata: z.strictObject({ user_id: z.string().max(1000).nullish() }).optional(),
    stop_sequences: z.array(text).max(16).optional(),
    temperature: z.number().optional(),
    top_p: z.number().optional(),
    top_k: z.number().int().optional(),
    thinking: z.looseObject({ type: z.enum(['enabled', 'disabled', 'adaptive']), budget_tokens: tokens.optional() }).optional(),
    tools: z.array(AnthropicTool).max(1000).optional(),
    tool_choice: z.looseObject({ type: z.enum(['auto', 'any', 'tool', 'none']) }).optional(),
    cache_control: z.unknown().optional(),
    output_config: z.looseObject({}).optional(),
  })
  .superRefine((request, ctx) => {
    for (const { path, value } of cacheControls(request)) {
      if (!CacheControl.safeParse(value).success)
        ctx.addIssue({ code: 'custom', path, message: 'only {"type":"ephemeral"} with the default five-minute lifetime is accepted' });
    }
  });
export type AnthropicRequest = z.infer<typeof AnthropicRequest>;

/** Betas known not to bill beyond the model's prices. Others (long context, long cache, files, MCP, code execution …) are refused. */
export const ALLOWED_BETAS = [
  'claude-code-20250219',
  'fine-grained-tool-streaming-2025-05-14',
  'interleaved-thinking-2025-05-14',
  'output-128k-2025-02-19',
  'prompt-caching-2024-07-31',
  'token-efficient-tools-2025-02-19',
] as const;

export const AnthropicHeaders = z.object({
  'anthropic-version': z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date such as the one the SDK sends')
    .default('2023-06-01'),
  'anthropic-beta': z
    .string()
    .max(1000)
    .transform((value) =>
      value
        .split(',')
        .map((beta) => beta.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(
        z.enum(ALLOWED_BETAS, {
          error: (issue) => `the beta "${String(issue.input).slice(0, 100)}" is not supported here: it bills beyond the model's prices`,
        }),
      ),
    )
    .optional(),
});
export type AnthropicHeaders = z.infer<typeof AnthropicHeaders>;

export type GatewayCall =
  | { format: 'openai'; request: OpenAIRequest; headers: Record<string, string> }
  | { format: 'anthropic'; request: AnthropicRequest; headers: Record<string, string> };

export type ParseResult = { ok: true; call: GatewayCall } | { ok: false; param: string; message: string };

/** Parses a model request against its format's allow-list; the first problem comes back named by its field. */
export function parseRequest(format: WireFormat, body: unknown, headers: Record<string, unknown>): ParseResult {
  if (format === 'openai') {
    const parsed = OpenAIRequest.safeParse(body);
    return parsed.success ? { ok: true, call: { format, request: parsed.data, headers: {} } } : problem(parsed.error);
  }
  const parsed = AnthropicRequest.safeParse(body);
  if (!parsed.success) return problem(parsed.error);
  const sent = AnthropicHeaders.safeParse({
    'anthropic-version': headers['anthropic-version'],
    'anthropic-beta': headers['anthropic-beta'],
  });
  if (!sent.success) return problem(sent.error);
  const forwarded: Record<string, string> = { 'anthropic-version': sent.data['anthropic-version'] };
  if (sent.data['anthropic-beta']?.length) forwarded['anthropic-beta'] = sent.data['anthropic-beta'].join(',');
  return { ok: true, call: { format, request: parsed.data, headers: forwarded } };
}

function problem(error: z.ZodError): { ok: false; param: string; message: string } {
  const issue = error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    const param = [...issue.path, issue.keys[0]].join('.');
    return { ok: false, param, message: `The field "${param}" is not supported by this gateway. Remove it from the request.` };
  }
  // A header problem names the header alone, not the position of the value inside it.
  const path = issue?.path ?? [];
  const param = (typeof path[0] === 'string' && path[0].startsWith('anthropic-') ? [path[0]] : path).join('.') || 'body';
  return { ok: false, param, message: `Invalid ${param}: ${issue?.message ?? 'malformed request'}` };
}

/**
 * Every `cache_control` a request carries, with its path: at the top level, on system blocks, on tools,
 * on message blocks and on the blocks inside a tool result. Tool schemas and tool inputs are not read.
 */
function cacheControls(request: Record<string, unknown>): { path: (string | number)[]; value: unknown }[] {
  const found: { path: (string | number)[]; value: unknown }[] = [];
  const take = (value: unknown, path: (string | number)[]) => {
    const control = objectOf(value)?.cache_control;
    if (control != null) found.push({ path: [...path, 'cache_control'], value: control });
  };
  const blocks = (value: unknown, path: (string | number)[], nested: boolean) => {
    if (!Array.isArray(value)) return;
    value.forEach((block, index) => {
      take(block, [...path, index]);
      if (nested) blocks(objectOf(block)?.content, [...path, index, 'content'], false);
    });
  };
  take(request, []);
  blocks(request.system, ['system'], false);
  blocks(request.tools, ['tools'], false);
  const messages = Array.isArray(request.messages) ? request.messages : [];
  messages.forEach((message, index) => {
    blocks(objectOf(message)?.content, ['messages', index, 'content'], true);
  });
  return found;
}

const objectOf = (value: unknown): Record<string, unknown> | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
