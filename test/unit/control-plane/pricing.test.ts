import { describe, expect, it } from 'vitest';
import { costOf, formatMicros, inputTokensBound, worstCaseCost } from '../../../control-plane/src/gateway/pricing.js';

const sonnet = { input: 3_000_000n, output: 15_000_000n, cacheRead: 300_000n, cacheWrite: 3_750_000n };

describe('pricing', () => {
  it('prices each kind of token and rounds up to the micro-dollar', () => {
    expect(costOf({ input: 1_000_000, output: 0, cacheRead: 0, cacheWrite: 0 }, sonnet)).toBe(3_000_000n);
    expect(costOf({ input: 1000, output: 500, cacheRead: 2000, cacheWrite: 100 }, sonnet)).toBe(3000n + 7500n + 600n + 375n);
    expect(costOf({ input: 1, output: 0, cacheRead: 0, cacheWrite: 0 }, sonnet)).toBe(3n);
    expect(costOf({ input: 0, output: 0, cacheRead: 1, cacheWrite: 0 }, sonnet)).toBe(1n);
    expect(costOf({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0 }, sonnet)).toBe(0n);
  });

  it('bounds the worst case with the dearest input price and every output token', () => {
    expect(worstCaseCost(1000, 2000, sonnet)).toBe(3750n + 30_000n);
    const cheapCache = { ...sonnet, cacheWrite: 1n };
    expect(worstCaseCost(1000, 0, cheapCache)).toBe(3000n);
  });

  it('never reserves less than any real call with the same limits costs', () => {
    for (const [input, cached, written, output] of [
      [500, 0, 0, 4096],
      [0, 800, 0, 10],
      [100, 100, 300, 4096],
    ] as const) {
      const worst = worstCaseCost(input + cached + written, 4096, sonnet);
      expect(costOf({ input, output, cacheRead: cached, cacheWrite: written }, sonnet)).toBeLessThanOrEqual(worst);
    }
  });

  it('bounds input tokens from above by the bytes of the request', () => {
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(100);
    const body = { model: 'x', messages: [{ role: 'user', content: text }], tools: [{ name: 'read', input_schema: { type: 'object' } }] };
    const bound = inputTokensBound(body);
    expect(bound).toBeGreaterThanOrEqual(Buffer.byteLength(text));
    expect(bound).toBeLessThan(Buffer.byteLength(JSON.stringify(body)) * 2);
    expect(inputTokensBound({ messages: [{ content: 'é'.repeat(10) }] })).toBeGreaterThanOrEqual(20);
  });

  it('formats micro-dollars for people', () => {
    expect(formatMicros(49_800_000n)).toBe('$49.80');
    expect(formatMicros(50_000_000)).toBe('$50.00');
    expect(formatMicros(1_234_567_890_000n)).toBe('$1,234,567.89');
    expect(formatMicros(4_999n)).toBe('$0.00');
    expect(formatMicros(5_000n)).toBe('$0.01');
  });
});
