import { describe, expect, it } from 'vitest';
import { chargeWithin } from '../../../control-plane/src/budgets/budget-service.js';
import { planCall, referencesRemoteContent } from '../../../control-plane/src/gateway/call-plan.js';
import { worstCaseCost } from '../../../control-plane/src/gateway/pricing.js';
import { type GatewayCall, parseRequest } from '../../../control-plane/src/gateway/requests.js';

const model = { upstream_model: 'upstream', output_limit: 4096, context_limit: 200_000 };
const messages = [{ role: 'user', content: 'hi' }];
const prices = { input: 3_000_000n, output: 15_000_000n, cacheRead: 300_000n, cacheWrite: 3_750_000n };

function parsed(format: 'openai' | 'anthropic', body: unknown, headers: Record<string, unknown> = {}): GatewayCall {
  const result = parseRequest(format, body, headers);
  if (!result.ok) throw new Error(result.message);
  return result.call;
}

function refusal(format: 'openai' | 'anthropic', body: unknown, headers: Record<string, unknown> = {}) {
  const result = parseRequest(format, body, headers);
  if (result.ok) throw new Error('expected a refusal');
  return result;
}

describe('gateway request allow-lists', () => {
  it('accept what OpenCode sends in each format', () => {
    const tools = [{ type: 'function', function: { name: 'bash', parameters: { type: 'object' } } }];
    const openai = { model: 'm', messages, stream: true, max_tokens: 4096, stream_options: { include_usage: true }, tools };
    expect(parsed('openai', { ...openai, tool_choice: 'auto', temperature: 0.2, top_p: 1 }).request).toMatchObject(openai);
    const ephemeral = { type: 'ephemeral' };
    const anthropic = {
      model: 'm',
      max_tokens: 4096,
      stream: true,
      system: [{ type: 'text', text: 'sys', cache_control: ephemeral }],
      tools: [{ name: 'bash', description: 'd', input_schema: { type: 'object' }, cache_control: ephemeral }],
      tool_choice: { type: 'auto' },
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi', cache_control: ephemeral }] }],
    };
    const call = parsed('anthropic', anthropic, {
      'anthropic-beta': 'interleaved-thinking-2025-05-14, fine-grained-tool-streaming-2025-05-14',
    });
    expect(call.request).toEqual(anthropic);
    expect(call.headers).toEqual({
      'anthropic-version': '2023-06-01',
      'anthropic-beta': 'interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14',
    });
  });

  it('refuse unknown fields by name, and features that bill beyond tokens', () => {
    expect(refusal('openai', { model: 'm', messages, web_search_options: {} })).toMatchObject({
      param: 'web_search_options',
      message: expect.stringContaining('"web_search_options" is not supported'),
    });
    expect(refusal('openai', { model: 'm', messages, stream_options: { include_usage: true, extra: 1 } }).param).toBe(
      'stream_options.extra',
    );
    expect(refusal('openai', { model: 'm', messages, n: 129 }).param).toBe('n');
    expect(refusal('openai', { model: 'm', messages, n: 0 }).param).toBe('n');
    expect(refusal('openai', { model: 'm', messages, tools: [{ type: 'file_search' }] }).param).toBe('tools.0.type');
    expect(refusal('anthropic', { model: 'm', messages, container: 'c' }).param).toBe('container');
    expect(refusal('anthropic', { model: 'm', messages, speed: 'fast' }).param).toBe('speed');
    expect(refusal('anthropic', { model: 'm', messages, tools: [{ type: 'web_fetch_20250910', name: 'web_fetch' }] }).param).toBe(
      'tools.0.type',
    );
    const oneHour = { type: 'ephemeral', ttl: '1h' };
    const block = {
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: 'x', cache_control: oneHour }] }],
    };
    expect(refusal('anthropic', { model: 'm', messages: [block] }).param).toBe('messages.0.content.0.content.0.cache_control');
    expect(refusal('anthropic', { model: 'm', messages, cache_control: oneHour }).param).toBe('cache_control');
    const beta = refusal('anthropic', { model: 'm', messages }, { 'anthropic-beta': 'files-api-2025-04-14' });
    expect(beta).toMatchObject({ param: 'anthropic-beta', message: expect.stringContaining('files-api-2025-04-14') });
    expect(refusal('anthropic', { model: 'm', messages }, { 'anthropic-version': 'latest' }).param).toBe('anthropic-version');
  });

  it('read cache_control only where the API does, not inside tool schemas or tool inputs', () => {
    const schema = { type: 'object', properties: { cache_control: { type: 'string' } } };
    const toolUse = { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'x', input: { cache_control: 'whatever' } }] };
    expect(parsed('anthropic', { model: 'm', messages: [toolUse], tools: [{ name: 'x', input_schema: schema }] }).format).toBe('anthropic');
  });
});

describe('the worst case of a call', () => {
  it('multiplies the output bound by the choices asked for, with max tokens capped at the model limit', () => {
    const one = planCall(parsed('openai', { model: 'm', messages, max_tokens: 10 }), model);
    const hundred = planCall(parsed('openai', { model: 'm', messages, max_tokens: 10, n: 100 }), model);
    expect(one.outputTokens).toBe(10);
    expect(hundred.outputTokens).toBe(1000);
    expect(hundred.payload).toMatchObject({ model: 'upstream', n: 100, max_tokens: 10 });
    const uncapped = planCall(parsed('openai', { model: 'm', messages, max_completion_tokens: 100_000, n: 3 }), model);
    expect(uncapped.payload.max_completion_tokens).toBe(4096);
    expect(uncapped.outputTokens).toBe(3 * 4096);
    // n: 100 at the model's limit is far past a 20,000 micro-dollar budget; with one choice it would seem to fit.
    const unbounded = planCall(parsed('openai', { model: 'm', messages, n: 100 }), model);
    expect(worstCaseCost(unbounded.inputTokens, unbounded.outputTokens, prices)).toBeGreaterThan(100n * 20_000n);
  });

  it('forces usage reporting on streams and keeps Anthropic max_tokens within the limit', () => {
    const streamed = planCall(parsed('openai', { model: 'm', messages, stream: true, stream_options: { include_usage: false } }), model);
    expect(streamed.payload.stream_options).toEqual({ include_usage: true });
    const anthropic = planCall(parsed('anthropic', { model: 'm', messages, max_tokens: 50_000 }), model);
    expect(anthropic).toMatchObject({ outputTokens: 4096, payload: { max_tokens: 4096, model: 'upstream' } });
  });

  it('bounds input it cannot count (content by URL or file id) by the context window', () => {
    const remote = [
      { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/big.png' } }] },
      { role: 'user', content: [{ type: 'file', file: { file_id: 'file-abc' } }] },
      { role: 'user', content: [{ type: 'document', source: { type: 'url', url: 'https://example.com/long.pdf' } }] },
    ];
    for (const message of remote) expect(referencesRemoteContent([message])).toBe(true);
    expect(
      referencesRemoteContent([{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }]),
    ).toBe(false);
    const plan = planCall(parsed('anthropic', { model: 'm', max_tokens: 10, messages: [remote[2]] }), model);
    expect(plan.inputTokens).toBe(200_000);
    expect(planCall(parsed('anthropic', { model: 'm', max_tokens: 10, messages }), model).inputTokens).toBeLessThan(1000);
  });
});

describe('settling a call', () => {
  it('charges the cost, never more than the reservation, and returns the excess', () => {
    expect(chargeWithin(700n, 1000n)).toEqual({ charged: 700n, excess: 0n });
    expect(chargeWithin(1000n, 1000n)).toEqual({ charged: 1000n, excess: 0n });
    expect(chargeWithin(41_010n, 15_600n)).toEqual({ charged: 15_600n, excess: 25_410n });
    expect(chargeWithin(0n, 1000n)).toEqual({ charged: 0n, excess: 0n });
  });
});
