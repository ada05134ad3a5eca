import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

const RANGES: Record<string, [string, number, 'ipv4' | 'ipv6'][]> = {
  loopback: [
    ['127.0.0.0', 8, 'ipv4'],
    ['::1', 128, 'ipv6'],
  ],
  linklocal: [
    ['169.254.0.0', 16, 'ipv4'],
    ['fe80::', 10, 'ipv6'],
  ],
  uniquelocal: [
    ['10.0.0.0', 8, 'ipv4'],
    ['172.16.0.0', 12, 'ipv4'],
    ['192.168.0.0', 16, 'ipv4'],
    ['fc00::', 7, 'ipv6'],
  ],
};

/**
 * The client's address on a raw request (the WebSocket upgrade, which Fastify's `request.ip` does
 * not see), by the same rule as Fastify's `trustProxy`: X-Forwarded-For is believed only hop by hop
 * from a proxy named in SWITCHBOARD_TRUST_PROXY, and the first address not a trusted proxy is the client.
 */
export function createClientAddress(trust: false | string[]): (request: IncomingMessage) => string {
  const trusted = new BlockList();
  for (const entry of trust || []) {
    const ranges = RANGES[entry];
    if (ranges) for (const [network, prefix, type] of ranges) trusted.addSubnet(network, prefix, type);
    else {
      const [address = '', bits] = entry.split('/');
      const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) trusted.addAddress(address, type);
      else trusted.addSubnet(address, Number(bits), type);
    }
  }
  const isTrusted = (address: string) => {
    const plain = address.replace(/^::ffff:(?=\d+\.)/, '');
    const family = isIP(plain);
    return family !== 0 && trusted.check(plain, family === 6 ? 'ipv6' : 'ipv4');
  };
  return (request) => {
    const socketAddress = request.socket.remoteAddress ?? 'unknown';
    if (!trust || !isTrusted(socketAddress)) return socketAddress;
    const header = request.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map((hop) => hop.trim())
      .filter(Boolean)
      .reverse();
    let client = socketAddress;
    for (const hop of hops) {
      client = hop;
      if (!isTrusted(hop)) break;
    }
    return client;
  };
}
