import { z } from 'zod';
import type { TokenUsage } from './pricing.js';

/** The two request formats the gateway speaks. Only this folder knows provider wire formats. */
export type WireFormat = 'openai' | 'anthropic';

const count = z.number().int().nonnegative().catch(0);

const OpenAIUsage = z.looseObject({
  prompt_tokens: count,
  completion_tokens: count,
  prompt_tokens_details: z.looseObject({ cached_tokens: count }).nullish().catch(undefined),
});
const AnthropicUsage = z.looseObject({
  input_tokens: count.optional(),
  output_tokens: count.optional(),
  cache_creation_input_tokens: count.nullish(),
  cache_read_input_tokens: count.nullish(),
});

/** OpenAI counts cached prompt tokens inside prompt_tokens; we keep them apart to price them. */
export function openAIUsage(value: unknown): TokenUsage | undefined {
  const parsed = OpenAIUsage.safeParse(value);
  if (!parsed.success) return undefined;
  const cached = Math.min(parsed.data.prompt_tokens_details?.cached_tokens ?? 0, parsed.data.prompt_tokens);
  return { input: parsed.data.prompt_tokens - cached, output: parsed.data.completion_tokens, cacheRead: cached, cacheWrite: 0 };
}

/** Anthropic reports cache writes and reads apart from input_tokens already. */
export function anthropicUsage(value: unknown, previous?: TokenUsage): TokenUsage | undefined {
  const parsed = AnthropicUsage.safeParse(value);
  if (!parsed.success) return previous;
  const usage = parsed.data;
  return {
    input: usage.input_tokens ?? previous?.input ?? 0,
    output: usage.output_tokens ?? previous?.output ?? 0,
    cacheWrite: usage.cache_creation_input_tokens ?? previous?.cacheWrite ?? 0,
    cacheRead: usage.cache_read_input_tokens ?? previous?.cacheRead ?? 0,
  };
}

export function usageFromResponse(format: WireFormat, json: unknown): TokenUsage | undefined {
  const usage = (json as { usage?: unknown } | null)?.usage;
  if (usage === undefined || usage === null) return undefined;
  return format === 'openai' ? openAIUsage(usage) : anthropicUsage(usage);
}

/** An error body in the caller's own format, with our stable code and any extra fields. */
export function errorBody(format: WireFormat, type: string, code: string, message: string, extra: Record<string, unknown> = {}): unknown {
  if (format === 'openai') return { error: { message, type, code, param: null, ...extra } };
  return { type: 'error', error: { type, code, message, ...extra } };
}

/** The event that ends a stream that broke, so no client mistakes a cut stream for a finished one. */
export function streamErrorEvent(format: WireFormat, message: string): string {
  if (format === 'openai') return `data: ${JSON.stringify(errorBody('openai', 'upstream_error', 'UPSTREAM_ERROR', message))}\n\n`;
  return `event: error\ndata: ${JSON.stringify(errorBody('anthropic', 'api_error', 'UPSTREAM_ERROR', message))}\n\n`;
}
