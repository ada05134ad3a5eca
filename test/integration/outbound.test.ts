import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardedLookup, isInternalAddress } from '../../control-plane/src/net/outbound.js';
import { seedFromGit } from '../../control-plane/src/sessions/workspace.js';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { makeTempDir } from '../fixtures/temp.js';

/** A control plane that allows no internal host: what a production install looks like. */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ SWITCHBOARD_ALLOWED_HOSTS: '' });
});
afterAll(() => t?.close());

const nothingAllowed = { allowedHosts: new Set<string>() };

describe('addresses the control plane refuses to reach on someone’s behalf', () => {
  it('classifies loopback, private, link-local (cloud metadata), mapped and unspecified addresses as internal', () => {
    for (const address of [
      '127.0.0.1',
      '10.2.3.4',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
    ])
      expect(isInternalAddress(address), address).toBe(true);
    for (const address of ['1.1.1.1', '93.184.216.34', '2606:4700::1111']) expect(isInternalAddress(address), address).toBe(false);
  });

  it('refuses a provider URL that points inside the machine or its networks, naming the way to allow it', async () => {
    for (const baseUrl of [
      'http://127.0.0.1:9/v1',
      'http://localhost:9/v1',
      'http://169.254.169.254/latest',
      'http://[::1]:8080/v1',
      'http://10.1.2.3/v1',
    ]) {
      const refused = await t.request(t.adminToken, 'POST', '/api/v1/providers', {
        name: `p-${Math.random().toString(36).slice(2, 8)}`,
        kind: 'openai-compatible',
        baseUrl,
        apiKey: 'sk-test-outbound-00000001',
      });
      expect(refused.status, baseUrl).toBe(400);
      expect(refused.body.error.message).toMatch(/SWITCHBOARD_ALLOWED_HOSTS/);
    }
    expect((await t.request(t.adminToken, 'GET', '/api/v1/providers')).body.items ?? []).toHaveLength(0);
  });

  it('drops a provider’s key when its host changes without a new key, and keeps it for a new path on the same host', async () => {
    const created = await t.request(t.adminToken, 'POST', '/api/v1/providers', {
      name: 'moving',
      kind: 'openai-compatible',
      baseUrl: 'https://llm.example.test/v1',
      apiKey: 'sk-test-moving-key-0042',
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const samePlace = await t.request(t.adminToken, 'PATCH', `/api/v1/providers/${id}`, { baseUrl: 'https://llm.example.test/v2' });
    expect(samePlace.body.keyLast4).toBe('0042');
    const moved = await t.request(t.adminToken, 'PATCH', `/api/v1/providers/${id}`, { baseUrl: 'https://elsewhere.example.test/v1' });
    expect(moved.status).toBe(200);
    expect(moved.body.keyLast4).toBeNull();
    const [audit] = await t.db.sql`
      select payload from audit_events where action = 'provider.update' and target_id = ${id} order by id desc limit 1`;
    expect(audit?.payload).toMatchObject({ keyChanged: true, keyLast4: null });
  });

  it('refuses an agent whose remote MCP server points inside, naming the field', async () => {
    const refused = await t.request(t.adminToken, 'POST', '/api/v1/agents', {
      name: 'inward',
      systemPrompt: 'x',
      mcpServers: { meta: { type: 'remote', url: 'http://169.254.169.254/mcp', headers: {} } },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details.issues[0].path).toBe('mcpServers.meta.url');
  });

  it('refuses at connection time a name that resolves inward (a name that changed after it was checked)', async () => {
    const lookup = guardedLookup(nothingAllowed);
    const refused = await new Promise<NodeJS.ErrnoException | null>((resolve) => lookup('localhost', {}, (error) => resolve(error)));
    expect(refused?.code).toBe('EOUTBOUND');
    const allowed = await new Promise<unknown>((resolve) =>
      guardedLookup({ allowedHosts: new Set(['localhost']) })('localhost', {}, (error, address) => resolve(error ?? address)),
    );
    expect(isInternalAddress(String(allowed))).toBe(true);
  });
});

describe('git workspaces', () => {
  const options = { allowLocal: false, maxBytes: 1024 * 1024, timeoutMs: 30_000, outbound: nothingAllowed };

  it('take https only, from outside the machine, and never return git’s text about an internal host', async () => {
    const dir = path.join(await makeTempDir('git-ssrf'), 'ws');
    await expect(seedFromGit(dir, { url: 'http://127.0.0.1/repo.git' }, options)).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: 'Git URLs must use https.',
    });
    for (const url of [
      'https://127.0.0.1/repo.git',
      'https://localhost:8443/repo.git',
      'https://[::1]/repo.git',
      'https://169.254.169.254/x',
    ])
      await expect(seedFromGit(dir, { url }, options), url).rejects.toMatchObject({
        code: 'BAD_REQUEST',
        message: expect.stringMatching(/inside this machine or its private network/),
      });
    expect(existsSync(dir)).toBe(false);
  });

  it('stop a clone that grows past the size limit, and leave nothing behind', async () => {
    const repo = await makeTempDir('git-big');
    writeFileSync(
      path.join(repo, 'big.bin'),
      Buffer.alloc(4 * 1024 * 1024, 7).map((_, index) => (index * 7919) % 251),
    );
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.email=t@e.st', '-c', 'user.name=t', ...args]);
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-q', '-m', 'big');
    const dir = path.join(await makeTempDir('git-big-ws'), 'ws');
    await expect(seedFromGit(dir, { url: repo }, { ...options, allowLocal: true })).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(existsSync(dir)).toBe(false);
  });
});
