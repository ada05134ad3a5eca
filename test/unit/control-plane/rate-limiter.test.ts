import { describe, expect, it } from 'vitest';
import { createWindowCounter } from '../../../control-plane/src/auth/rate-limiter.js';

describe('createWindowCounter', () => {
  it('counts per key within a window and resets after it', () => {
    let now = 0;
    const counter = createWindowCounter({ limit: 2, windowMs: 1000, now: () => now });
    expect(counter.hit('a')).toBe(1);
    expect(counter.exceeded('a')).toBe(false);
    expect(counter.hit('a')).toBe(2);
    expect(counter.exceeded('a')).toBe(true);
    expect(counter.exceeded('b')).toBe(false);
    now = 1000;
    expect(counter.exceeded('a')).toBe(false);
    expect(counter.hit('a')).toBe(1);
  });

  it('never holds more than maxKeys keys', () => {
    const counter = createWindowCounter({ limit: 1, maxKeys: 100 });
    for (let i = 0; i < 10_000; i++) counter.hit(`10.0.${i >> 8}.${i & 255}`);
    expect(counter.size).toBe(100);
  });
});
