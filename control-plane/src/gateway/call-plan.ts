import type { ModelRow } from '../providers/provider-repository.js';
import { inputTokensBound } from './pricing.js';
import type { GatewayCall } from './requests.js';

/** What goes upstream, and the most the provider can bill for it: the reservation is priced from these bounds. */
export interface CallPlan {
  payload: Record<string, unknown>;
  /** No real input count can pass it. */
  inputTokens: number;
  /** Every choice's output at its capped max tokens: `max_tokens × n`. */
  outputTokens: number;
}

/**
 * Caps max tokens at the model's output limit (writing the cap into the payload, so the provider
 * honours the bound we price), asks a stream for its usage, and bounds the input. Input that the
 * request only points at (an image or a document by URL, an uploaded file) has no bytes here to
 * count: such a request is bounded by the model's context window instead.
 */
export function planCall(call: GatewayCall, model: Pick<ModelRow, 'upstream_model' | 'output_limit' | 'context_limit'>): CallPlan {
  const limit = model.output_limit;
  if (call.format === 'anthropic') {
    const maxTokens = Math.min(call.request.max_tokens ?? limit, limit);
    const payload = { ...call.request, model: model.upstream_model, max_tokens: maxTokens };
    return { payload, inputTokens: inputBound(payload, model), outputTokens: maxTokens };
  }
  const { request } = call;
  const payload: Record<string, unknown> = { ...request, model: model.upstream_model };
  const field = request.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens';
  const maxTokens = Math.min(request[field] ?? limit, limit);
  payload[field] = maxTokens;
  if (request.stream === true) payload.stream_options = { ...request.stream_options, include_usage: true };
  return { payload, inputTokens: inputBound(payload, model), outputTokens: maxTokens * (request.n ?? 1) };
}

function inputBound(payload: Record<string, unknown>, model: Pick<ModelRow, 'context_limit'>): number {
  const bound = inputTokensBound(payload);
  return referencesRemoteContent([payload.messages, payload.system]) ? Math.max(bound, model.context_limit) : bound;
}

/**
 * True when message content points at input the provider fetches itself: an OpenAI `image_url` that
 * is not a data URL, a file by id, an Anthropic image or document whose source is a URL or a file.
 */
export function referencesRemoteContent(value: unknown, depth = 0): boolean {
  if (depth > 64 || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((item) => referencesRemoteContent(item, depth + 1));
  const node = value as Record<string, unknown>;
  if (typeof node.file_id === 'string') return true;
  const source = node.source as { type?: unknown } | null | undefined;
  if (source && typeof source === 'object' && (source.type === 'url' || source.type === 'file')) return true;
  const image = node.image_url as string | { url?: unknown } | null | undefined;
  const url = typeof image === 'string' ? image : image?.url;
  if (typeof url === 'string' && !url.startsWith('data:')) return true;
  return Object.values(node).some((item) => referencesRemoteContent(item, depth + 1));
}
