import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SYSTEM } from '../../control-plane/src/audit/actions.js';
import { costOf } from '../../control-plane/src/gateway/pricing.js';
import { createGatewayHarness, type GatewayHarness, issueSessionKey, TEST_PRICES_MICROS, usageRows } from '../fixtures/gateway.js';

/** Calls through the gateway in both wire formats, per-session keys, budgets and the models list. */
let g: GatewayHarness;
beforeAll(async () => {
  g = await createGatewayHarness();
});
afterAll(async () => g?.closeAll());
beforeEach(() => g.fake.reset());

describe('OpenAI format', () => {
  it('answers a non-streamed call, with the provider key upstream and the cost metered', async () => {
    const user = await g.createUser('member');
    g.fake.script({ text: 'Four.', usage: { input: 120, output: 5, cacheRead: 100 } });
    const answer = await g.openai(user.token).chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: '2+2?' }] });
    expect(answer.choices[0]?.message.content).toBe('Four.');
    const upstream = g.fake.requests[0]!;
    expect(upstream.headers.authorization).toBe('Bearer sk-test-openai-provider-key-0001');
    expect(upstream.body.model).toBe('upstream-gpt');
    expect(upstream.body.max_tokens).toBe(4096);
    expect(JSON.stringify(upstream.headers)).not.toContain(user.token);
    const [row] = await usageRows(g, user.id);
    expect(row).toMatchObject({
      model: 'gpt-test',
      outcome: 'ok',
      usage_reported: true,
      input_tokens: 20n,
      cache_read_tokens: 100n,
      output_tokens: 5n,
      stream: false,
    });
    expect(row!.cost_micros).toBe(costOf({ input: 20, output: 5, cacheRead: 100, cacheWrite: 0 }, TEST_PRICES_MICROS));
  });

  it('streams through, asks the provider for usage, and charges what it reports', async () => {
    const user = await g.createUser('member');
    g.fake.script({ text: 'Streaming works across many small chunks.', chunks: 6, usage: { input: 300, output: 11 } });
    const stream = await g
      .openai(user.token)
      .chat.completions.create({ model: 'gpt-test', stream: true, max_tokens: 100_000, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('Streaming works across many small chunks.');
    const upstream = g.fake.requests[0]!;
    expect(upstream.body.stream_options).toEqual({ include_usage: true });
    expect(upstream.body.max_tokens).toBe(4096);
    const [row] = await usageRows(g, user.id);
    expect(row).toMatchObject({ outcome: 'ok', usage_reported: true, stream: true, input_tokens: 300n, output_tokens: 11n });
    expect(row!.cost_micros).toBe(costOf({ input: 300, output: 11, cacheRead: 0, cacheWrite: 0 }, TEST_PRICES_MICROS));
    expect(row!.reserved_micros).toBeGreaterThan(row!.cost_micros);
  });

  it('passes tool calls through', async () => {
    const user = await g.createUser('member');
    g.fake.script({ toolCalls: [{ name: 'read_file', arguments: { path: 'src/index.ts' } }] });
    const stream = g.openai(user.token).chat.completions.stream({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'read it' }],
      tools: [
        { type: 'function', function: { name: 'read_file', parameters: { type: 'object', properties: { path: { type: 'string' } } } } },
      ],
    });
    const done = await stream.finalChatCompletion();
    const call = done.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === 'function' && call.function.name).toBe('read_file');
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ path: 'src/index.ts' });
  });
});

describe('Anthropic format', () => {
  it('streams with cache tokens metered, accepting the key as a bearer token', async () => {
    const user = await g.createUser('member');
    g.fake.script({ text: 'Cached hello.', usage: { input: 40, output: 6, cacheRead: 1000, cacheWrite: 200 } });
    const stream = g
      .anthropic(user.token)
      .messages.stream({ model: 'claude-test', max_tokens: 512, messages: [{ role: 'user', content: 'hi' }] });
    const message = await stream.finalMessage();
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'Cached hello.' });
    const upstream = g.fake.requests[0]!;
    expect(upstream.headers['x-api-key']).toBe('sk-ant-test-provider-key-0002');
    expect(upstream.headers.authorization).toBeUndefined();
    expect(upstream.body.max_tokens).toBe(512);
    const [row] = await usageRows(g, user.id);
    expect(row).toMatchObject({ outcome: 'ok', input_tokens: 40n, output_tokens: 6n, cache_read_tokens: 1000n, cache_write_tokens: 200n });
    expect(row!.cost_micros).toBe(costOf({ input: 40, output: 6, cacheRead: 1000, cacheWrite: 200 }, TEST_PRICES_MICROS));
  });

  it('answers non-streamed calls with tool use, accepting x-api-key', async () => {
    const user = await g.createUser('member');
    g.fake.script({ toolCalls: [{ name: 'bash', arguments: { command: 'ls' } }], usage: { input: 10, output: 3 } });
    const response = await fetch(`${g.baseUrl}/gateway/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': user.token, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-test', max_tokens: 100, messages: [{ role: 'user', content: 'list' }] }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as any;
    expect(body.content[0]).toMatchObject({ type: 'tool_use', name: 'bash', input: { command: 'ls' } });
    expect(g.fake.requests[0]!.headers['anthropic-version']).toBe('2023-06-01');
  });
});

describe('per-session keys', () => {
  it('attribute calls to their session, die when revoked, and cannot spend for another user’s session', async () => {
    const alice = await g.createUser('member');
    const bob = await g.createUser('member');
    const key = await issueSessionKey(g, alice.id);
    await g.db
      .sql`insert into harness_sessions (harness_session_id, user_id, session_id) values ('ses_alice', ${alice.id}, ${key.sessionId})`;
    const bobSession = crypto.randomUUID();
    await g.db.sql`insert into harness_sessions (harness_session_id, user_id, session_id) values ('ses_bob', ${bob.id}, ${bobSession})`;

    await g
      .openai(key.key, { sessionId: 'ses_alice' })
      .chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] });
    const [row] = await usageRows(g, alice.id);
    expect(row).toMatchObject({ session_id: key.sessionId, harness_session_id: 'ses_alice' });

    const foreign = await g
      .openai(key.key, { sessionId: 'ses_bob' })
      .chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] })
      .catch((caught: unknown) => caught as any);
    expect(foreign.status).toBe(403);
    expect(await usageRows(g, bob.id)).toHaveLength(0);

    await g.db.sql.begin((tx) => g.app.sessionKeys.revokeForSession(tx, SYSTEM, key.sessionId));
    const revoked = await g
      .openai(key.key)
      .chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] })
      .catch((caught: unknown) => caught as any);
    expect(revoked.status).toBe(401);
  });

  it('trip a request breaker that answers 402, not a retryable status', async () => {
    const breaker = await createGatewayHarness({ SWITCHBOARD_GATEWAY_SESSION_RPM: '3' });
    try {
      const user = await breaker.createUser('member');
      const key = await issueSessionKey(breaker, user.id);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const result = await breaker
          .openai(key.key)
          .chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] })
          .then(
            () => 200,
            (error: any) => error.status as number,
          );
        statuses.push(result);
      }
      expect(statuses).toEqual([200, 200, 200, 402, 402]);
      expect(breaker.fake.requests).toHaveLength(3);
    } finally {
      await breaker.closeAll();
    }
  });
});

describe('budgets', () => {
  it('alerts once per period when spend crosses the soft threshold, and reports spend per model', async () => {
    const user = await g.createUser('member');
    await g.request(g.adminToken, 'PUT', `/api/v1/users/${user.id}/budgets/month`, { limitMicros: 10_000_000, softAlertPct: 1 });
    g.fake.setDefault({ text: 'ok', usage: { input: 10_000, output: 1000 } });
    // Ten thousand input tokens need a prompt that can hold them: a charge never passes the reservation.
    const messages = [{ role: 'user' as const, content: 'x'.repeat(10_000) }];
    for (let i = 0; i < 3; i++) await g.openai(user.token).chat.completions.create({ model: 'gpt-test', max_tokens: 1000, messages });
    await g.anthropic(user.token).messages.create({ model: 'claude-test', max_tokens: 1000, messages });
    const alerts = await g.db.sql`select * from budget_alerts where user_id = ${user.id}`;
    expect(alerts).toHaveLength(1);
    const spend = await g.request(user.token, 'GET', `/api/v1/users/${user.id}/spend?period=month`);
    expect(spend.status).toBe(200);
    const perCall = Number(costOf({ input: 10_000, output: 1000, cacheRead: 0, cacheWrite: 0 }, TEST_PRICES_MICROS));
    expect(spend.body.totalMicros).toBe(4 * perCall);
    expect(spend.body.byModel).toEqual([
      expect.objectContaining({ model: 'gpt-test', calls: 3, costMicros: 3 * perCall, inputTokens: 30_000 }),
      expect.objectContaining({ model: 'claude-test', calls: 1, costMicros: perCall }),
    ]);
    expect(spend.body.budgets[0]).toMatchObject({ scope: 'user', period: 'month', spentMicros: 4 * perCall, reservedMicros: 0 });
    const other = await g.createUser('member');
    expect((await g.request(other.token, 'GET', `/api/v1/users/${user.id}/spend`)).status).toBe(403);
  });

  it('holds team budgets too: a team that is spent refuses its members', async () => {
    const user = await g.createUser('member');
    const team = await g.request(g.adminToken, 'POST', '/api/v1/teams', { name: `Spent ${Date.now()}` });
    await g.request(g.adminToken, 'POST', `/api/v1/teams/${team.body.id}/members`, { userId: user.id });
    await g.request(g.adminToken, 'PUT', `/api/v1/teams/${team.body.id}/budgets/week`, { limitMicros: 100 });
    const error = await g
      .openai(user.token)
      .chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] })
      .catch((caught: unknown) => caught as any);
    expect(error.status).toBe(402);
    expect(error.error.budget).toMatchObject({ scope: 'team', period: 'week', teamId: team.body.id });
    expect(error.error.message).toContain('team budget');
    const budgets = await g.request(user.token, 'GET', `/api/v1/users/${user.id}/budgets`);
    expect(budgets.body.items).toEqual([expect.objectContaining({ scope: 'team', limitMicros: 100, reservedMicros: 0 })]);
  });

  it('releases the reservations of calls that never finished', async () => {
    const user = await g.createUser('member');
    await g.request(g.adminToken, 'PUT', `/api/v1/users/${user.id}/budgets/total`, { limitMicros: 1_000_000_000 });
    const held = await g.app.budgets.reserve(user.id, 5000n);
    expect(held.ok).toBe(true);
    const [budget] = await g.db.sql<{ reserved_micros: bigint }[]>`select reserved_micros from budgets where user_id = ${user.id}`;
    expect(budget!.reserved_micros).toBe(5000n);
    await g.db.sql`update reservations set expires_at = now() - interval '1 second' where user_id = ${user.id}`;
    expect(await g.app.budgets.sweep()).toBeGreaterThanOrEqual(1);
    const [after] = await g.db.sql<
      { reserved_micros: bigint; spent_micros: bigint }[]
    >`select reserved_micros, spent_micros from budgets where user_id = ${user.id}`;
    expect(after).toMatchObject({ reserved_micros: 0n, spent_micros: 0n });
  });
});

describe('models list', () => {
  it('lists enabled models for any valid key', async () => {
    const user = await g.createUser('viewer');
    const list = await g.openai(user.token).models.list();
    const ids = list.data.map((model) => model.id);
    expect(ids).toEqual(expect.arrayContaining(['gpt-test', 'claude-test']));
  });
});
