import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createClientAddress } from '../../../control-plane/src/auth/client-address.js';

const upgrade = (remoteAddress: string, forwarded?: string) =>
  ({ socket: { remoteAddress }, headers: forwarded ? { 'x-forwarded-for': forwarded } : {} }) as unknown as IncomingMessage;

describe('the client address of a WebSocket upgrade', () => {
  it('is the socket’s when no proxy is trusted, whatever X-Forwarded-For says', () => {
    expect(createClientAddress(false)(upgrade('127.0.0.1', '198.51.100.7'))).toBe('127.0.0.1');
  });

  it('comes from X-Forwarded-For only through trusted proxies, hop by hop', () => {
    const address = createClientAddress(['10.0.0.0/8', '127.0.0.1']);
    expect(address(upgrade('127.0.0.1', '198.51.100.7'))).toBe('198.51.100.7');
    expect(address(upgrade('::ffff:127.0.0.1', '198.51.100.7'))).toBe('198.51.100.7');
    expect(address(upgrade('10.1.2.3', '203.0.113.9, 10.9.9.9'))).toBe('203.0.113.9');
    // A client that is not a proxy cannot forge its address; nor can one hidden behind a forged hop.
    expect(address(upgrade('192.0.2.44', '198.51.100.7'))).toBe('192.0.2.44');
    expect(address(upgrade('127.0.0.1', '1.2.3.4, 192.0.2.44'))).toBe('192.0.2.44');
    expect(createClientAddress(['loopback'])(upgrade('::1', '198.51.100.7'))).toBe('198.51.100.7');
  });
});
