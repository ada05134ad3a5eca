import { describe, expect, it } from 'vitest';
import { createAuthFailureLimiter, createWindowCounter, credentialAccount } from '../../../control-plane/src/auth/rate-limiter.js';

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

describe('credentialAccount', () => {
  it('is the kind prefix and four characters, the hint the API shows', () => {
    expect(credentialAccount('sb_abcdEFGHijklmnop')).toBe('sb_abcd');
    expect(credentialAccount('sbk_abcdEFGH')).toBe('sbk_abcd');
    expect(credentialAccount('no-prefix-at-all')).toBe('no-p');
    expect(credentialAccount(undefined)).toBeUndefined();
    expect(credentialAccount('')).toBeUndefined();
  });
});

describe('createAuthFailureLimiter', () => {
  const limiter = (now: () => number = () => 0) => createAuthFailureLimiter({ limit: 2, windowMs: 1000, now });

  it('limits an address whatever tokens it tries, and says so once', () => {
    const failures = limiter();
    expect(failures.fail({ address: 'proxy', credential: 'sb_aaaa1' })).toEqual({ limited: false });
    expect(failures.fail({ address: 'proxy', credential: 'sb_bbbb1' })).toEqual({ limited: false });
    expect(failures.fail({ address: 'proxy', credential: 'sb_cccc1' })).toEqual({ limited: true, scope: 'address', first: true });
    expect(failures.fail({ address: 'proxy' })).toEqual({ limited: true, scope: 'address', first: false });
    expect(failures.fail({ address: 'elsewhere', credential: 'sb_dddd1' })).toEqual({ limited: false });
  });

  it('limits an account whatever addresses its failures come from', () => {
    const failures = limiter();
    expect(failures.fail({ address: '10.0.0.1', credential: 'sb_vict1' }).limited).toBe(false);
    expect(failures.fail({ address: '10.0.0.2', credential: 'sb_vict2' }).limited).toBe(false);
    expect(failures.fail({ address: '10.0.0.3', credential: 'sb_vict3' })).toEqual({ limited: true, scope: 'account', first: true });
    expect(failures.fail({ address: '10.0.0.4', credential: 'sb_vict4' })).toEqual({ limited: true, scope: 'account', first: false });
    expect(failures.fail({ address: '10.0.0.4', credential: 'sb_othr1' }).limited).toBe(false);
  });

  it('forgets failures after the window', () => {
    let now = 0;
    const failures = limiter(() => now);
    for (let i = 0; i < 3; i++) failures.fail({ address: 'a', credential: 'sb_xxxx' });
    expect(failures.fail({ address: 'a', credential: 'sb_xxxx' }).limited).toBe(true);
    now = 1000;
    expect(failures.fail({ address: 'a', credential: 'sb_xxxx' })).toEqual({ limited: false });
  });
});
