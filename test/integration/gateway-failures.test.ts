import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { costOf } from '../../control-plane/src/gateway/pricing.js';
import { createGatewayHarness, type GatewayHarness, issueSessionKey, TEST_PRICES_MICROS, usageRows } from '../fixtures/gateway.js';

/** Refusals, provider errors, broken streams and callers who hang up: each answered in the caller’s format, each charged what it cost. */
let g: GatewayHarness;
beforeAll(async () => {
  g = await createGatewayHarness();
});
afterAll(async () => g?.closeAll());
beforeEach(() => g.fake.reset());

/** Sends a call and hangs up as soon as the provider has it. */
async function hangUpOnceSent(path: string, token: string, body: Record<string, unknown>) {
  const controller = new AbortController();
  const pending = fetch(`${g.baseUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: controller.signal,
  }).catch((caught: unknown) => caught as Error);
  await g.fake.waitForRequests(1);
  controller.abort();
  expect(await pending).toMatchObject({ name: 'AbortError' });
}

describe('refusals and errors in the caller’s own format', () => {
  it('refuses with 402 before streaming when the budget cannot hold the worst case', async () => {
    const user = await g.createUser('member');
    await g.request(g.adminToken, 'PUT', `/api/v1/users/${user.id}/budgets/month`, { limitMicros: 1000 });
    const response = await fetch(`${g.baseUrl}/gateway/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'hello' }] }),
    });
    expect(response.status).toBe(402);
    expect(response.headers.get('content-type')).toContain('application/json');
    const body = (await response.json()) as any;
    expect(body.error).toMatchObject({ code: 'BUDGET_EXCEEDED', type: 'budget_exceeded' });
    expect(body.error.message).toBe('Spending limit reached for this period (user budget). Ask an admin to raise it.');
    expect(body.error.budget).toMatchObject({ scope: 'user', period: 'month', limitMicros: 1000, spentMicros: 0 });
    expect(body.error.budget.requestedMicros).toBeGreaterThan(1000);
    expect(g.fake.requests).toHaveLength(0);
    const [refused] = await g.db.sql`select * from audit_events where action = 'gateway.refused' and actor_id = ${user.id}`;
    expect(refused?.outcome).toBe('denied');
  });

  it('gives agents (session keys) a refusal without a single digit, in Anthropic shape', async () => {
    const user = await g.createUser('member');
    await g.request(g.adminToken, 'PUT', `/api/v1/users/${user.id}/budgets/day`, { limitMicros: 500 });
    const key = await issueSessionKey(g, user.id);
    const error = await g
      .anthropic(key.key)
      .messages.create({ model: 'claude-test', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught as any);
    expect(error.status).toBe(402);
    const raw = JSON.stringify(error.error);
    expect(raw).not.toMatch(/\d/);
    expect(error.error).toMatchObject({
      type: 'error',
      error: { type: 'budget_exceeded', code: 'BUDGET_EXCEEDED', budget: { scope: 'user', period: 'day' } },
    });
    expect(error.error.error.message).not.toMatch(/rate limit|exhausted|overloaded|unavailable|try again later|too many tokens/i);
  });

  it('passes a provider error through and charges nothing', async () => {
    const user = await g.createUser('member');
    g.fake.script({
      status: 400,
      errorBody: { error: { message: 'bad tool schema', type: 'invalid_request_error', code: null, param: null } },
    });
    const error = await g
      .openai(user.token)
      .chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] })
      .catch((caught: unknown) => caught as any);
    expect(error.status).toBe(400);
    expect(error.message).toContain('bad tool schema');
    const [row] = await usageRows(g, user.id);
    expect(row).toMatchObject({ outcome: 'upstream_error', cost_micros: 0n });
  });

  it('ends a broken stream with an error event and charges the reservation', async () => {
    const user = await g.createUser('member');
    g.fake.script({ text: 'This answer will be cut off before it ends properly.', chunks: 8, breakAfterChunks: 3 });
    const response = await fetch(`${g.baseUrl}/gateway/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-test', max_tokens: 200, stream: true, messages: [{ role: 'user', content: 'go' }] }),
    });
    const text = await response.text();
    expect(text).toContain('event: content_block_delta');
    expect(text).not.toContain('event: message_stop');
    expect(text.trimEnd().split('\n\n').at(-1)).toMatch(/^event: error\ndata: .*"code":"UPSTREAM_ERROR"/);
    const [row] = await usageRows(g, user.id);
    expect(row).toMatchObject({ outcome: 'broken_stream' });
    expect(row!.cost_micros).toBe(row!.reserved_micros);
    expect(row!.cost_micros).toBeGreaterThan(0n);
  });

  it('charges a caller who hangs up for the input bound and the text streamed so far, not the whole reservation', async () => {
    const user = await g.createUser('member');
    g.fake.script({ text: 'word '.repeat(200), chunks: 200, chunkDelayMs: 10 });
    const controller = new AbortController();
    const response = await fetch(`${g.baseUrl}/gateway/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'talk' }] }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    let received = '';
    while ((received.match(/"content"/g) ?? []).length < 20) received += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    await expect.poll(async () => (await usageRows(g, user.id)).length, { timeout: 10_000 }).toBe(1);
    const [row] = await usageRows(g, user.id);
    expect(row).toMatchObject({ outcome: 'client_aborted', usage_reported: false });
    // Charged for at most the input bound plus the deltas it carried (≈ 5 bytes each + one token per
    // event), well under the reservation for 4096 output tokens, and never zero.
    expect(row!.cost_micros).toBeGreaterThan(0n);
    expect(row!.cost_micros).toBeLessThan(row!.reserved_micros / 4n);
  });

  it('charges the reservation, never zero, when a finished stream reports no usage', async () => {
    const user = await g.createUser('member');
    g.fake.script({ text: 'No usage here.', omitUsage: true });
    const stream = await g
      .openai(user.token)
      .chat.completions.create({ model: 'gpt-test', stream: true, max_tokens: 50, messages: [{ role: 'user', content: 'x' }] });
    for await (const _chunk of stream) {
      // drain
    }
    const [row] = await usageRows(g, user.id);
    expect(row).toMatchObject({ outcome: 'ok', usage_reported: false });
    expect(row!.cost_micros).toBe(row!.reserved_micros);
  });

  it('answers unknown models, wrong formats, bad bodies and bad keys in the caller’s format', async () => {
    const user = await g.createUser('member');
    const post = (path: string, body: unknown, key: string | null = user.token) =>
      fetch(`${g.baseUrl}/gateway/v1/${path}`, {
        method: 'POST',
        headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    const unknown = await post('chat/completions', { model: 'nope', messages: [{ role: 'user', content: 'x' }] });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as any).error.code).toBe('NOT_FOUND');
    const wrong = await post('messages', { model: 'gpt-test', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as any).error.message).toContain('/gateway/v1/chat/completions');
    const noMessages = await post('chat/completions', { model: 'gpt-test' });
    expect(((await noMessages.json()) as any).error.message).toMatch(/messages/);
    expect((await post('chat/completions', '{not json')).status).toBe(400);
    const anonymous = await post('messages', { model: 'claude-test', messages: [] }, null);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ type: 'error', error: { code: 'UNAUTHORIZED' } });
    expect(g.fake.requests).toHaveLength(0);
  });
});

describe('callers who hang up', () => {
  it('charges a non-streamed call whose caller hangs up mid-flight for the usage the provider reported, and releases its reservation', async () => {
    const user = await g.createUser('member');
    await g.request(g.adminToken, 'PUT', `/api/v1/users/${user.id}/budgets/total`, { limitMicros: 10_000_000 });
    g.fake.script({ text: 'A slow answer.', delayMs: 500, usage: { input: 50, output: 20 } });
    await hangUpOnceSent('/gateway/v1/chat/completions', user.token, {
      model: 'gpt-test',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'take your time' }],
    });
    await expect.poll(async () => (await usageRows(g, user.id)).length, { timeout: 10_000 }).toBe(1);
    const [row] = await usageRows(g, user.id);
    expect(row).toMatchObject({ outcome: 'client_aborted', usage_reported: true, input_tokens: 50n, output_tokens: 20n });
    expect(row!.cost_micros).toBe(costOf({ input: 50, output: 20, cacheRead: 0, cacheWrite: 0 }, TEST_PRICES_MICROS));
    expect(row!.cost_micros).toBeGreaterThan(0n);
    const [budget] = await g.db.sql<
      { spent_micros: bigint; reserved_micros: bigint }[]
    >`select spent_micros, reserved_micros from budgets where user_id = ${user.id}`;
    expect(budget).toEqual({ spent_micros: row!.cost_micros, reserved_micros: 0n });
    expect(await g.db.sql`select 1 from reservations where user_id = ${user.id}`).toHaveLength(0);
  });

  it('charges a streamed call whose caller hangs up before the first byte for its input, never zero', async () => {
    const user = await g.createUser('member');
    g.fake.script({ text: 'Never seen.', delayMs: 500 });
    await hangUpOnceSent('/gateway/v1/messages', user.token, {
      model: 'claude-test',
      stream: true,
      max_tokens: 1000,
      messages: [{ role: 'user', content: 'hello' }],
    });
    await expect.poll(async () => (await usageRows(g, user.id)).length, { timeout: 10_000 }).toBe(1);
    const [row] = await usageRows(g, user.id);
    expect(row).toMatchObject({ outcome: 'client_aborted', usage_reported: false });
    expect(row!.cost_micros).toBeGreaterThan(0n);
    // The input bound only: none of the thousand output tokens reserved were sent.
    expect(row!.cost_micros).toBeLessThanOrEqual(row!.reserved_micros - (1000n * TEST_PRICES_MICROS.output) / 1_000_000n);
  });
});
