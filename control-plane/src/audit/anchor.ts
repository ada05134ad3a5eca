import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { canonicalJson } from './chain.js';

/**
 * The chain head as it stood when it was last verified, signed with a key the database never
 * sees. Whoever can write SQL can rewrite every row and recompute every SHA-256, but cannot sign a
 * shorter or different head: verify compares the rows with this anchor.
 */
export interface ChainAnchor {
  throughId: bigint;
  hash: Buffer;
  /** The retention point (`audit_anchor`) the chain started from when it was signed. */
  retainedThroughId: bigint;
  retainedHash: Buffer;
  at: Date;
}

export type StoredAnchor = { state: 'none' } | { state: 'ok'; anchor: ChainAnchor } | { state: 'bad'; reason: string };

export interface AnchorStore {
  readonly file: string;
  read(): Promise<StoredAnchor>;
  write(anchor: ChainAnchor): Promise<void>;
  /** The seal a retention row carries: proof that this deployment's key allowed removing rows through `throughId`. */
  seal(throughId: bigint, hash: Buffer): string;
  sealed(throughId: bigint, hash: Buffer, seal: unknown): boolean;
}

const Decimal = z.string().regex(/^\d{1,19}$/);
const Hex32 = z.string().regex(/^[0-9a-f]{64}$/);

const AnchorFile = z.strictObject({
  version: z.literal(1),
  throughId: Decimal,
  hash: Hex32,
  retainedThroughId: Decimal,
  retainedHash: Hex32,
  at: z.iso.datetime(),
  mac: Hex32,
});

/** A key for audit signatures only, derived from the vault master key (never the key itself). */
export function anchorKey(masterKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, 'switchboard', 'audit-anchor/v1', 32));
}

function mac(key: Buffer, value: unknown): Buffer {
  return createHmac('sha256', key).update(canonicalJson(value)).digest();
}

function sameHex(expected: Buffer, given: unknown): boolean {
  if (typeof given !== 'string' || !/^[0-9a-f]{64}$/.test(given)) return false;
  return timingSafeEqual(expected, Buffer.from(given, 'hex'));
}

function anchorFields(anchor: ChainAnchor) {
  return {
    version: 1 as const,
    throughId: anchor.throughId.toString(),
    hash: anchor.hash.toString('hex'),
    retainedThroughId: anchor.retainedThroughId.toString(),
    retainedHash: anchor.retainedHash.toString('hex'),
    at: anchor.at.toISOString(),
  };
}

export function createAnchorStore({ file, key }: { file: string; key: Buffer }): AnchorStore {
  return {
    file,

    async read() {
      const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
      if (text === undefined) return { state: 'none' };
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return { state: 'bad', reason: `The audit anchor ${file} is not valid JSON.` };
      }
      const parsed = AnchorFile.safeParse(json);
      if (!parsed.success) return { state: 'bad', reason: `The audit anchor ${file} is not in the expected format.` };
      const { mac: signature, ...fields } = parsed.data;
      if (!sameHex(mac(key, { kind: 'audit.anchor', ...fields }), signature)) {
        return { state: 'bad', reason: `The audit anchor ${file} was altered, or signed with another master key.` };
      }
      return {
        state: 'ok',
        anchor: {
          throughId: BigInt(fields.throughId),
          hash: Buffer.from(fields.hash, 'hex'),
          retainedThroughId: BigInt(fields.retainedThroughId),
          retainedHash: Buffer.from(fields.retainedHash, 'hex'),
          at: new Date(fields.at),
        },
      };
    },

    async write(anchor) {
      const fields = anchorFields(anchor);
      const body = { ...fields, mac: mac(key, { kind: 'audit.anchor', ...fields }).toString('hex') };
      // Write aside and rename, so a crash never leaves half an anchor behind.
      const temporary = `${file}.${process.pid}.tmp`;
      await writeFile(temporary, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
      await chmod(temporary, 0o600);
      await rename(temporary, file);
    },

    seal(throughId, hash) {
      return mac(key, { kind: 'audit.retention', throughId: throughId.toString(), hash: hash.toString('hex') }).toString('hex');
    },

    sealed(throughId, hash, seal) {
      return sameHex(mac(key, { kind: 'audit.retention', throughId: throughId.toString(), hash: hash.toString('hex') }), seal);
    },
  };
}
