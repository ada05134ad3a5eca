import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBudgetService } from '../../control-plane/src/budgets/budget-service.js';
import { createLogger } from '../../control-plane/src/logger.js';
import { createGatewayHarness, type GatewayHarness } from '../fixtures/gateway.js';
import { dump } from '../fixtures/json.js';

/** Every log line the app writes, at debug level, to scan for secrets. */
const logLines: string[] = [];
const sink = new Writable({
  write(chunk, _encoding, done) {
    logLines.push(chunk.toString());
    done();
  },
});

let g: GatewayHarness;
beforeAll(async () => {
  g = await createGatewayHarness({}, { logger: createLogger('debug', sink) });
});
afterAll(async () => g?.closeAll());

describe('providers and the vault', () => {
  it('seals keys, shows only their last four characters, and re-keys', async () => {
    const created = await g.request(g.adminToken, 'POST', '/api/v1/providers', {
      name: 'anthropic-main',
      kind: 'anthropic',
      apiKey: 'sk-ant-api03-REALSECRET-7890',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ kind: 'anthropic', baseUrl: 'https://api.anthropic.com', keyLast4: '7890' });
    const [row] = await g.db.sql<{ api_key_sealed: string }[]>`select api_key_sealed from providers where id = ${created.body.id}`;
    expect(row!.api_key_sealed).toMatch(/^v1\./);
    expect(row!.api_key_sealed).not.toContain('REALSECRET');

    const models = await g.request(g.adminToken, 'GET', '/api/v1/models');
    const seeded = models.body.items.filter((model: any) => model.providerId === created.body.id).map((model: any) => model.name);
    expect(seeded).toEqual(expect.arrayContaining(['claude-sonnet-4-5', 'claude-haiku-4-5']));
    expect(models.body.items.find((model: any) => model.name === 'claude-sonnet-4-5').prices).toEqual({
      input: 3_000_000,
      output: 15_000_000,
      cacheRead: 300_000,
      cacheWrite: 3_750_000,
    });

    const rekeyed = await g.request(g.adminToken, 'PATCH', `/api/v1/providers/${created.body.id}`, { apiKey: 'sk-ant-api03-ROTATED-4321' });
    expect(rekeyed.body.keyLast4).toBe('4321');
    const removedKey = await g.request(g.adminToken, 'PATCH', `/api/v1/providers/${created.body.id}`, { apiKey: null });
    expect(removedKey.body.keyLast4).toBeNull();
  });

  it('refuses duplicates, missing base URLs, deleting a provider in use, and non-admins', async () => {
    const member = await g.createUser('member');
    expect((await g.request(g.adminToken, 'POST', '/api/v1/providers', { name: 'fake-openai', kind: 'openai' })).status).toBe(409);
    const noUrl = await g.request(g.adminToken, 'POST', '/api/v1/providers', { name: 'local', kind: 'openai-compatible' });
    expect(noUrl.status).toBe(400);
    expect(noUrl.body.error.message).toContain('baseUrl');
    expect((await g.request(g.adminToken, 'DELETE', `/api/v1/providers/${g.providerIds.openai}`)).status).toBe(409);
    expect((await g.request(member.token, 'POST', '/api/v1/providers', { name: 'mine', kind: 'openai' })).status).toBe(403);
    expect((await g.request(member.token, 'GET', '/api/v1/providers')).status).toBe(403);
    expect((await g.request(member.token, 'GET', '/api/v1/models')).status).toBe(200);

    const local = await g.request(g.adminToken, 'POST', '/api/v1/providers', {
      name: 'ollama',
      kind: 'openai-compatible',
      baseUrl: 'http://127.0.0.1:11434/v1/',
    });
    expect(local.body).toMatchObject({ baseUrl: 'http://127.0.0.1:11434/v1', keyLast4: null });
    expect((await g.request(g.adminToken, 'DELETE', `/api/v1/providers/${local.body.id}`)).status).toBe(200);
  });

  it('edits model prices and limits, which the gateway then uses', async () => {
    const models = await g.request(g.adminToken, 'GET', '/api/v1/models');
    const gpt = models.body.items.find((model: any) => model.name === 'gpt-test');
    const updated = await g.request(g.adminToken, 'PATCH', `/api/v1/models/${gpt.id}`, {
      outputLimit: 128,
      prices: { ...gpt.prices, output: 1 },
    });
    expect(updated.body).toMatchObject({ outputLimit: 128, prices: { output: 1 } });
    g.app.providers.invalidate();
    const user = await g.createUser('member');
    g.fake.reset();
    await g.openai(user.token).chat.completions.create({ model: 'gpt-test', max_tokens: 9999, messages: [{ role: 'user', content: 'x' }] });
    expect(g.fake.requests[0]!.body.max_tokens).toBe(128);
    await g.request(g.adminToken, 'PATCH', `/api/v1/models/${gpt.id}`, { outputLimit: 4096, prices: gpt.prices });
  });

  it('imports ANTHROPIC_API_KEY and OPENAI_API_KEY once', async () => {
    const keys = { anthropic: 'sk-ant-env-imported-key-1111', openai: 'sk-env-imported-openai-2222' };
    expect(await g.app.providers.importEnvironmentKeys(keys)).toEqual(['ANTHROPIC_API_KEY', 'OPENAI_API_KEY']);
    expect(await g.app.providers.importEnvironmentKeys(keys)).toEqual([]);
    const providers = (await g.request(g.adminToken, 'GET', '/api/v1/providers')).body.items;
    expect(providers.filter((provider: any) => provider.keyLast4 === '1111' || provider.keyLast4 === '2222')).toHaveLength(2);
    const imports = await g.db.sql`select * from audit_events where action = 'vault.import'`;
    expect(imports).toHaveLength(2);
  });

  it('never lets a provider key or token reach a response, a log line or the audit trail', async () => {
    const secret = 'sk-proj-NEVER-LEAK-THIS-KEY-abcdef123456';
    const provider = await g.request(g.adminToken, 'POST', '/api/v1/providers', { name: 'leaky', kind: 'openai', apiKey: secret });
    const responses = [
      provider.body,
      (await g.request(g.adminToken, 'GET', '/api/v1/providers')).body,
      (await g.request(g.adminToken, 'GET', `/api/v1/providers/${provider.body.id}`)).body,
      (await g.request(g.adminToken, 'PATCH', `/api/v1/providers/${provider.body.id}`, { name: 'leaky-renamed' })).body,
      (await g.request(g.adminToken, 'GET', '/api/v1/audit?limit=500')).body,
    ];
    const user = await g.createUser('member');
    await g.openai(user.token).chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] });
    await g
      .openai('sb_wrong-token-wrong-token-wrong')
      .chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] })
      .catch(() => {});
    const auditTable = dump(await g.db.sql`select * from audit_events`);
    const usageTable = dump(await g.db.sql`select * from usage_events`);
    const logs = logLines.join('');
    expect(logs.length).toBeGreaterThan(1000);
    for (const value of [secret, 'sk-test-openai-provider-key-0001', 'sk-ant-test-provider-key-0002', 'NEVER-LEAK']) {
      expect(dump(responses)).not.toContain(value);
      expect(auditTable).not.toContain(value);
      expect(usageTable).not.toContain(value);
      expect(logs).not.toContain(value);
    }
    expect(logs).not.toContain(user.token);
    expect(logs).not.toContain(g.adminToken);
  });
});

describe('budget periods', () => {
  it('roll over on the calendar: last month’s spend does not count this month', async () => {
    const user = await g.createUser('member');
    await g.request(g.adminToken, 'PUT', `/api/v1/users/${user.id}/budgets/month`, { limitMicros: 10_000 });
    let now = new Date('2026-10-15T12:00:00Z');
    const budgets = createBudgetService({
      sql: g.db.sql,
      audit: g.app.audit,
      log: g.app.log,
      timeZone: 'UTC',
      reservationTtlS: 600,
      clock: () => now,
    });
    await g.db.sql`update budgets set period_start = '2026-10-01T00:00:00Z' where user_id = ${user.id}`;
    const first = await budgets.reserve(user.id, 9000n);
    if (!first.ok) throw new Error('first reservation refused');
    await g.db.sql.begin((tx) => budgets.settle(tx, first.reservation, 9000n));
    expect((await budgets.reserve(user.id, 2000n)).ok).toBe(false);
    now = new Date('2026-11-01T00:00:01Z');
    const [before] = await budgets.list({ userId: user.id });
    expect(before).toMatchObject({ spentMicros: 0, periodStart: '2026-11-01T00:00:00.000Z', periodEnd: '2026-12-01T00:00:00.000Z' });
    const next = await budgets.reserve(user.id, 2000n);
    expect(next.ok).toBe(true);
    const [row] = await g.db.sql<
      { spent_micros: bigint; period_start: Date }[]
    >`select spent_micros, period_start from budgets where user_id = ${user.id}`;
    expect(row).toMatchObject({ spent_micros: 0n, period_start: new Date('2026-11-01T00:00:00Z') });
  });
});
