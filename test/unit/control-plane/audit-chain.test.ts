import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchorKey, createAnchorStore } from '../../../control-plane/src/audit/anchor.js';
import { type ChainedRow, canonicalJson, chainHash, GENESIS_HASH } from '../../../control-plane/src/audit/chain.js';
import { REDACTED, redact } from '../../../control-plane/src/audit/redact.js';

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[1,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
  });
});

describe('chainHash', () => {
  const row: ChainedRow = {
    id: '1',
    at: '2026-11-24T10:00:00.000Z',
    actorType: 'user',
    actorId: null,
    tokenId: null,
    ip: '127.0.0.1',
    action: 'user.create',
    targetType: 'user',
    targetId: 'u1',
    outcome: 'ok',
    payload: { email: 'a@b.co' },
  };

  it('changes when any field or the previous hash changes', () => {
    const base = chainHash(GENESIS_HASH, row);
    expect(chainHash(GENESIS_HASH, { ...row })).toEqual(base);
    expect(chainHash(GENESIS_HASH, { ...row, payload: { email: 'b@b.co' } })).not.toEqual(base);
    expect(chainHash(GENESIS_HASH, { ...row, outcome: 'denied' })).not.toEqual(base);
    expect(chainHash(Buffer.alloc(32, 1), row)).not.toEqual(base);
  });
});

describe('redact', () => {
  it('removes secrets by field name at any depth', () => {
    expect(
      redact({ token: 'abc', nested: { apiKey: 'k', password: 'p', api_key: 'x', Authorization: 'y' }, tokenId: 't', maxTokens: 5 }),
    ).toEqual({
      token: REDACTED,
      nested: { apiKey: REDACTED, password: REDACTED, api_key: REDACTED, Authorization: REDACTED },
      tokenId: 't',
      maxTokens: 5,
    });
  });

  it('removes secret-looking values inside strings', () => {
    const text = 'use sb_abcdefghijklmnopqrstuvwxyz012345 or sk-ant-api03-abcdefghijklmnop1234 with Bearer abc.def.ghi12345';
    const out = redact({ note: text }) as { note: string };
    expect(out.note).not.toMatch(/sb_abcdef|sk-ant|abc\.def/);
    expect(out.note.match(/\[redacted\]/g)).toHaveLength(3);
  });

  it('produces what a JSON round trip produces', () => {
    const value = { at: new Date('2026-01-01T00:00:00Z'), n: 10n, skip: undefined, list: [undefined, 1], text: 'a\u0000b\ud800' };
    expect(redact(value)).toEqual({ at: '2026-01-01T00:00:00.000Z', n: '10', list: [null, 1], text: 'ab\ufffd' });
  });
});

describe('the signed anchor', () => {
  const masterKey = Buffer.alloc(32, 7);
  const anchor = {
    throughId: 42n,
    hash: Buffer.alloc(32, 1),
    retainedThroughId: 7n,
    retainedHash: Buffer.alloc(32, 2),
    at: new Date('2026-12-01T00:00:00.000Z'),
  };

  it('uses a key derived from the master key, never the master key itself', () => {
    expect(anchorKey(masterKey)).toHaveLength(32);
    expect(anchorKey(masterKey).equals(masterKey)).toBe(false);
    expect(anchorKey(masterKey)).toEqual(anchorKey(Buffer.alloc(32, 7)));
  });

  it('reads back what it wrote, in a 0600 file, and refuses an edited file or another key', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'switchboard-anchor-'));
    try {
      const file = path.join(dir, 'audit-anchor.json');
      const store = createAnchorStore({ file, key: anchorKey(masterKey) });
      expect(await store.read()).toEqual({ state: 'none' });
      await store.write(anchor);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(await store.read()).toEqual({ state: 'ok', anchor });
      expect(await createAnchorStore({ file, key: anchorKey(Buffer.alloc(32, 8)) }).read()).toMatchObject({ state: 'bad' });
      const text = await readFile(file, 'utf8');
      await writeFile(file, text.replace('"42"', '"41"'));
      expect(await store.read()).toMatchObject({ state: 'bad', reason: expect.stringMatching(/altered/) });
      await writeFile(file, '{"version":1}');
      expect(await store.read()).toMatchObject({ state: 'bad', reason: expect.stringMatching(/format/) });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('seals a retention point so that only the same key recognises it', () => {
    const store = createAnchorStore({ file: '/nonexistent', key: anchorKey(masterKey) });
    const seal = store.seal(7n, anchor.retainedHash);
    expect(store.sealed(7n, anchor.retainedHash, seal)).toBe(true);
    expect(store.sealed(8n, anchor.retainedHash, seal)).toBe(false);
    expect(store.sealed(7n, anchor.hash, seal)).toBe(false);
    expect(store.sealed(7n, anchor.retainedHash, 'not hex')).toBe(false);
    expect(createAnchorStore({ file: '/nonexistent', key: anchorKey(Buffer.alloc(32, 9)) }).sealed(7n, anchor.retainedHash, seal)).toBe(
      false,
    );
  });
});
