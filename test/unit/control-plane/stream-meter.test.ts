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
    expect(meter.outputTokensBound).toBeGreaterThan(0);
  });

  it('bounds the output of a cut stream by the text it carried, not by its framing', () => {
    const deltas = Array.from(
      { length: 50 },
      (_, i) =>
        `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"w${i % 10} "}}]}`,
    );
    const meter = createStreamMeter('openai');
    feedAll(meter, `${deltas.join('\n\n')}\n\n`, 13);
    // 50 deltas of 3 bytes each, plus one token per event: far below the ~7 KB of event data.
    expect(meter.outputTokensBound).toBe(50 * 3 + 50);
    const tool = createStreamMeter('anthropic');
    feedAll(
      tool,
      [
        'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t1","name":"bash","input":{}}}',
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\\"command\\":\\"ls\\"}"}}',
        '',
      ].join('\n\n'),
      7,
    );
    expect(tool.outputTokensBound).toBeGreaterThanOrEqual('bash'.length + '{"command":"ls"}'.length);
    expect(tool.outputTokensBound).toBeLessThan(80);
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
