import { createHash } from 'node:crypto';

/** The fields of an audit row that its hash covers, in their canonical (JSON-safe) form. */
export interface ChainedRow {
  id: string;
  at: string;
  actorType: string;
  actorId: string | null;
  tokenId: string | null;
  ip: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  payload: unknown;
}

export const GENESIS_HASH = Buffer.alloc(32);

/** JSON with object keys sorted at every level, so equal values always serialize identically. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}

/** hash = SHA-256(previous hash ‖ canonical JSON of the row). */
export function chainHash(prevHash: Uint8Array, row: ChainedRow): Buffer {
  return createHash('sha256').update(prevHash).update(canonicalJson(row)).digest();
}
