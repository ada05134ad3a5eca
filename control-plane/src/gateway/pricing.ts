/** Prices in micro-dollars per million tokens. */
export interface Prices {
  input: bigint;
  output: bigint;
  cacheRead: bigint;
  cacheWrite: bigint;
}

export interface TokenUsage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

const MILLION = 1_000_000n;
const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;
const maxBig = (a: bigint, b: bigint) => (a > b ? a : b);

/** The cost of a call in micro-dollars, rounded up so a call is never charged less than it cost. */
export function costOf(usage: TokenUsage, prices: Prices): bigint {
  const total =
    BigInt(usage.input) * prices.input +
    BigInt(usage.output) * prices.output +
    BigInt(usage.cacheRead) * prices.cacheRead +
    BigInt(usage.cacheWrite) * prices.cacheWrite;
  return ceilDiv(total, MILLION);
}

/**
 * The most a call can cost: every input token at the dearest input price (a cache write costs more
 * than plain input) plus every allowed output token. With an input bound that no real count can
 * exceed, the settled cost never passes the reservation.
 */
export function worstCaseCost(inputTokensBound: number, maxOutputTokens: number, prices: Prices): bigint {
  const inputPrice = maxBig(prices.cacheWrite, prices.input);
  return ceilDiv(BigInt(inputTokensBound) * inputPrice + BigInt(maxOutputTokens) * prices.output, MILLION);
}

/**
 * An upper bound on the input tokens of a request: byte-level tokenizers never produce more tokens
 * than UTF-8 bytes of text, so the bytes of every string and key in the request (messages, system
 * prompt, tool schemas, response format …), plus an allowance per element for role and framing
 * tokens, bound the true count from above.
 */
export function inputTokensBound(body: unknown): number {
  let bytes = 0;
  let elements = 0;
  const walk = (value: unknown, depth: number): void => {
    if (typeof value === 'string') {
      bytes += Buffer.byteLength(value, 'utf8');
      return;
    }
    if (typeof value === 'number' || typeof value === 'boolean') {
      bytes += 8;
      return;
    }
    if (depth > 100 || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      elements += value.length;
      for (const item of value) walk(item, depth + 1);
      return;
    }
    for (const [key, item] of Object.entries(value)) {
      bytes += Buffer.byteLength(key, 'utf8');
      walk(item, depth + 1);
    }
  };
  walk(body, 0);
  return bytes + elements * 8 + 64;
}

/** Formats micro-dollars for people: 49800000n → "$49.80". */
export function formatMicros(micros: bigint | number): string {
  const value = BigInt(micros);
  const cents = (value + 5_000n) / 10_000n;
  return `$${(cents / 100n).toLocaleString('en-US')}.${(cents % 100n).toString().padStart(2, '0')}`;
}
