import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { AppError } from '../errors.js';

/**
 * Where the control plane may connect on someone's behalf (a git clone, a provider, an agent's
 * MCP server): anywhere public, never the machine itself, its private networks or link-local
 * addresses (cloud metadata at 169.254.169.254 included), unless an admin allow-listed the host
 * with SWITCHBOARD_ALLOWED_HOSTS. Checked on the addresses a name resolves to, when a URL is
 * configured and again at every connection (so a name that later resolves inward is refused too).
 */
const INTERNAL = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  INTERNAL.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  INTERNAL.addSubnet(network, prefix, 'ipv6');

export interface OutboundRules {
  /** Host names or addresses (lowercase) an admin allowed although they are internal. */
  allowedHosts: ReadonlySet<string>;
}

/** Whether `address` is loopback, private, link-local, multicast or unspecified (IPv4-mapped IPv6 included). */
export function isInternalAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return INTERNAL.check(mapped, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return INTERNAL.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

const bare = (host: string) => host.replace(/^\[|\]$/g, '').toLowerCase();

function resolveAll(host: string): Promise<string[]> {
  if (isIP(host)) return Promise.resolve([host]);
  return new Promise((resolve, reject) =>
    dnsLookup(host, { all: true, verbatim: true }, (error, addresses: LookupAddress[]) =>
      error ? reject(error) : resolve(addresses.map((entry) => entry.address)),
    ),
  );
}

/**
 * Refuses a URL whose host is internal (after DNS), unless allow-listed; returns the addresses it
 * resolved to, for callers that pin them. `what` names the URL for people ("The provider URL").
 */
export async function checkOutbound(url: string, rules: OutboundRules, what: string): Promise<string[]> {
  const host = bare(new URL(url).hostname);
  if (rules.allowedHosts.has(host)) return [];
  // A name that does not resolve now cannot lead anywhere now; each connection is checked again.
  const addresses = await resolveAll(host).catch(() => [] as string[]);
  const internal = addresses.find(isInternalAddress);
  if (internal)
    throw new AppError(
      'BAD_REQUEST',
      `${what} points at ${host} (${internal}), an address inside this machine or its private network. An admin can allow the host with SWITCHBOARD_ALLOWED_HOSTS.`,
    );
  return addresses;
}

/** A `lookup` for undici's `connect` option: the same rule at connection time, so DNS that changes later cannot lead inward. */
export function guardedLookup(rules: OutboundRules) {
  return (
    hostname: string,
    options: object,
    callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    const host = bare(hostname);
    dnsLookup(host, { ...options, all: true, verbatim: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, []);
      if (!rules.allowedHosts.has(host)) {
        const internal = addresses.find((entry) => isInternalAddress(entry.address));
        if (internal) {
          const refused = Object.assign(new Error(`${host} resolves to the internal address ${internal.address}`), { code: 'EOUTBOUND' });
          return callback(refused, []);
        }
      }
      if ((options as { all?: boolean }).all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${host} has no address`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}
