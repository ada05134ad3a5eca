import { describe, expect, it } from 'vitest';
import { createStreamMeter } from '../../../control-plane/src/gateway/stream-meter.js';

const feedAll = (meter: ReturnType<typeof createStreamMeter>, text: string, size: number) => {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) meter.feed(bytes.subarray(i, i + size));
};

describe('stream meter', () => {
  const openai = [
    'data: {"choices":[{"delta":{"role":"assistant"}}]}',
    'data: {"choices":[{"delta":{"content":"Grüße"}}]}',
    'data: {"choices":[],"usage":{"prompt_tokens":120,"completion_tokens":7,"prompt_tokens_details":{"cached_tokens":100}}}',
    'data: [DONE]',
    '',
  ].join('\n\n');

  it('finds OpenAI usage and the end marker whatever the chunking', () => {
    for (const size of [1, 3, 7, 64, 10_000]) {
      const meter = createStreamMeter('openai');
      feedAll(meter, openai, size);
      expect(meter.finished).toBe(true);
      expect(meter.usage).toEqual({ input: 20, output: 7, cacheRead: 100, cacheWrite: 0 });
    }
  });

  it('reports no end and no usage for a cut stream', () => {
    const meter = createStreamMeter('openai');
    feedAll(meter, openai.slice(0, 80), 5);
    expect(meter.finished).toBe(false);
    expect(meter.usage).toBeUndefined();
    expect(meter.dataBytes).toBeGreaterThan(0);
  });

  it('combines Anthropic usage from message_start and message_delta', () => {
    const anthropic = [
      'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":50,"output_tokens":1,"cache_creation_input_tokens":200,"cache_read_input_tokens":300}}}',
      'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"type":"text_delta","text":"hi"}}',
      'event: message_delta\r\ndata: {"type":"message_delta","usage":{"output_tokens":42}}',
      'event: message_stop\ndata: {"type":"message_stop"}',
      '',
    ].join('\n\n');
    const meter = createStreamMeter('anthropic');
    feedAll(meter, anthropic, 11);
    expect(meter.finished).toBe(true);
    expect(meter.usage).toEqual({ input: 50, output: 42, cacheWrite: 200, cacheRead: 300 });
  });

  it('notices an upstream error event and skips absurdly long lines', () => {
    const meter = createStreamMeter('anthropic');
    meter.feed(Buffer.from(`data: ${'x'.repeat(2 * 1024 * 1024)}`));
    meter.feed(Buffer.from('\n\nevent: error\ndata: {"type":"error","error":{"type":"overloaded_error"}}\n\n'));
    expect(meter.upstreamError).toBe(true);
    expect(meter.finished).toBe(false);
  });
});
