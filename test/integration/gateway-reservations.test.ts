import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { costOf } from '../../control-plane/src/gateway/pricing.js';
import { createGatewayHarness, type GatewayHarness, TEST_PRICES_MICROS, usageRows } from '../fixtures/gateway.js';

/** What a call can really cost: every choice, only fields the gateway can price, never a charge past the reservation. */
let g: GatewayHarness;
beforeAll(async () => {
  g = await createGatewayHarness();
});
afterAll(async () => g?.closeAll());
beforeEach(() => g.fake.reset());

describe('the reservation covers what a call can really cost', () => {
  const messages = [{ role: 'user' as const, content: 'Say something short.' }];

  it('reserves for every choice a call asks for, so n: 100 cannot overrun the budget', async () => {
    const user = await g.createUser('member');
    await g.request(g.adminToken, 'PUT', `/api/v1/users/${user.id}/budgets/total`, { limitMicros: 20_000 });
    // Without max_tokens each of the hundred choices may run to the model's 4096 tokens: refused before any upstream call.
    const unbounded = await g
      .openai(user.token)
      .chat.completions.create({ model: 'gpt-test', n: 100, messages })
      .catch((caught: unknown) => caught as any);
    expect(unbounded.status).toBe(402);
    expect(g.fake.requests).toHaveLength(0);

    // With max_tokens 10 the worst case is a thousand output tokens: it fits, and the hundred choices are charged in full.
    g.fake.script({ text: 'Short.', usage: { input: 170, output: 9 } });
    const answer = await g.openai(user.token).chat.completions.create({ model: 'gpt-test', n: 100, max_tokens: 10, messages });
    expect(answer.choices).toHaveLength(100);
    expect(g.fake.requests[0]!.body.n).toBe(100);
    const [row] = await usageRows(g, user.id);
    expect(row).toMatchObject({ outcome: 'ok', usage_reported: true, output_tokens: 900n });
    expect(row!.cost_micros).toBe(costOf({ input: 170, output: 900, cacheRead: 0, cacheWrite: 0 }, TEST_PRICES_MICROS));
    expect(row!.reserved_micros).toBeGreaterThanOrEqual((100n * 10n * TEST_PRICES_MICROS.output) / 1_000_000n);
    expect(row!.cost_micros).toBeLessThanOrEqual(row!.reserved_micros);
    const [budget] = await g.db.sql<{ spent_micros: bigint }[]>`select spent_micros from budgets where user_id = ${user.id}`;
    expect(budget!.spent_micros).toBe(row!.cost_micros);
    expect(budget!.spent_micros).toBeLessThanOrEqual(20_000n);
  });

  it('refuses request fields and features it cannot price with a 400 in the caller’s format, before any upstream call', async () => {
    const user = await g.createUser('member');
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${g.baseUrl}/gateway/v1/${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const openai = { model: 'gpt-test', messages };
    const anthropic = { model: 'claude-test', max_tokens: 100, messages };
    const cases: [path: string, body: unknown, headers: Record<string, string>, param: string][] = [
      ['chat/completions', { ...openai, web_search_options: {} }, {}, 'web_search_options'],
      ['chat/completions', { ...openai, models: ['a-dearer-model'] }, {}, 'models'],
      ['chat/completions', { ...openai, modalities: ['text', 'audio'], audio: { voice: 'alloy', format: 'mp3' } }, {}, 'modalities'],
      ['chat/completions', { ...openai, n: 1000 }, {}, 'n'],
      ['chat/completions', { ...openai, tools: [{ type: 'web_search_preview' }] }, {}, 'tools.0.type'],
      ['chat/completions', { ...openai, max_tokens: 10, max_completion_tokens: 20 }, {}, 'max_completion_tokens'],
      ['messages', { ...anthropic, mcp_servers: [{ type: 'url', url: 'https://mcp.example', name: 'x' }] }, {}, 'mcp_servers'],
      ['messages', { ...anthropic, tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 50 }] }, {}, 'tools.0.type'],
      [
        'messages',
        { ...anthropic, system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral', ttl: '1h' } }] },
        {},
        'system.0.cache_control',
      ],
      ['messages', anthropic, { 'anthropic-beta': 'fine-grained-tool-streaming-2025-05-14, context-1m-2025-08-07' }, 'anthropic-beta'],
    ];
    for (const [path, body, headers, param] of cases) {
      const response = await post(path, body, headers);
      const answer = (await response.json()) as any;
      expect({ param, status: response.status }).toEqual({ param, status: 400 });
      if (path === 'messages') expect(answer).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
      expect(answer.error).toMatchObject({ code: 'BAD_REQUEST', param });
      expect(answer.error.message).toContain(param.split('.')[0]);
    }
    expect(g.fake.requests).toHaveLength(0);
    expect(await usageRows(g, user.id)).toHaveLength(0);
  });

  it('still accepts every field OpenCode sends, in both formats', async () => {
    const user = await g.createUser('member');
    const tool = { name: 'bash', description: 'Run a command', schema: { type: 'object', properties: { command: { type: 'string' } } } };
    const openai = await g.openai(user.token).chat.completions.create({
      model: 'gpt-test',
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 4096,
      temperature: 0.2,
      top_p: 0.9,
      tool_choice: 'auto',
      tools: [{ type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.schema } }],
      messages: [
        { role: 'system', content: 'You are a coding agent.' },
        { role: 'user', content: 'hi' },
      ],
    });
    for await (const _chunk of openai) {
      // drain
    }
    const ephemeral = { type: 'ephemeral' as const };
    const anthropic = await g.anthropic(user.token).messages.create(
      {
        model: 'claude-test',
        stream: true,
        max_tokens: 4096,
        system: [{ type: 'text', text: 'You are a coding agent.', cache_control: ephemeral }],
        tools: [{ name: tool.name, description: tool.description, input_schema: tool.schema as any, cache_control: ephemeral }],
        tool_choice: { type: 'auto' },
        messages: [{ role: 'user', content: [{ type: 'text', text: 'hi', cache_control: { type: 'ephemeral', ttl: '5m' } }] }],
      },
      { headers: { 'anthropic-beta': 'fine-grained-tool-streaming-2025-05-14' } },
    );
    for await (const _event of anthropic) {
      // drain
    }
    expect(g.fake.requests).toHaveLength(2);
    expect(g.fake.requests[1]!.headers['anthropic-beta']).toBe('fine-grained-tool-streaming-2025-05-14');
    expect((await usageRows(g, user.id)).map((row) => row.outcome)).toEqual(['ok', 'ok']);
  });

  it('never charges more than it reserved: usage beyond the worst case is capped and audited as an anomaly', async () => {
    const user = await g.createUser('member');
    await g.request(g.adminToken, 'PUT', `/api/v1/users/${user.id}/budgets/total`, { limitMicros: 1_000_000 });
    // A provider that reports far more output than max_tokens allows (a bug, a hidden feature, a price it did not tell us).
    g.fake.script({ text: 'Too much.', usage: { input: 10, output: 50_000 } }, { text: 'Too much.', usage: { input: 10, output: 50_000 } });
    await g.openai(user.token).chat.completions.create({ model: 'gpt-test', max_tokens: 16, messages });
    const stream = await g.anthropic(user.token).messages.create({ model: 'claude-test', stream: true, max_tokens: 16, messages });
    for await (const _event of stream) {
      // drain
    }
    const rows = await usageRows(g, user.id);
    expect(rows).toHaveLength(2);
    const reported = costOf({ input: 10, output: 50_000, cacheRead: 0, cacheWrite: 0 }, TEST_PRICES_MICROS);
    for (const row of rows) {
      expect(row).toMatchObject({ outcome: 'ok', usage_reported: true, output_tokens: 50_000n });
      expect(row.cost_micros).toBe(row.reserved_micros);
      expect(row.cost_micros).toBeLessThan(reported);
    }
    const [budget] = await g.db.sql<
      { spent_micros: bigint; reserved_micros: bigint }[]
    >`select spent_micros, reserved_micros from budgets where user_id = ${user.id}`;
    expect(budget).toEqual({ spent_micros: rows[0]!.cost_micros + rows[1]!.cost_micros, reserved_micros: 0n });
    const calls = await g.db.sql<{ payload: any }[]>`
      select payload from audit_events where action = 'gateway.call' and actor_id = ${user.id} order by id`;
    expect(calls.map((call) => call.payload)).toEqual([
      expect.objectContaining({ anomaly: 'usage_above_reservation', reportedCostMicros: String(reported) }),
      expect.objectContaining({ anomaly: 'usage_above_reservation', reportedCostMicros: String(reported) }),
    ]);
  });
});
