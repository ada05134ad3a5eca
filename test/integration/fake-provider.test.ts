import Anthropic, { type APIError as AnthropicApiError } from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TEXT, type FakeProvider, startFakeProvider } from '../fixtures/fake-provider/index.js';

let fake: FakeProvider;
let oa: OpenAI;
let an: Anthropic;

beforeAll(async () => {
  fake = await startFakeProvider();
  const defaultHeaders = { 'x-session-id': 'sess-42' };
  oa = new OpenAI({ baseURL: `${fake.url}/v1`, apiKey: 'sk-fake', maxRetries: 0, defaultHeaders });
  an = new Anthropic({ baseURL: fake.url, apiKey: 'ak-fake', maxRetries: 0, defaultHeaders });
});
afterEach(() => fake.reset());
afterAll(async () => fake?.close());

const MODEL_OA = 'gpt-fake-1';
const MODEL_AN = 'claude-fake-1';
const userSays = (content: string) => [{ role: 'user' as const, content }];
const weather = { name: 'get_weather', arguments: { city: 'Paris', units: 'metric', days: [1, 2] } };
const oaTools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }];
const anTools = [{ name: 'get_weather', input_schema: { type: 'object' as const, properties: {} } }];

function oaStream(extra: Record<string, unknown> = {}) {
  return oa.chat.completions.create({ model: MODEL_OA, messages: userSays('hi'), stream: true, ...extra });
}
function anStream() {
  return an.messages.create({ model: MODEL_AN, max_tokens: 100, messages: userSays('hi'), stream: true });
}

describe('OpenAI chat completions through the openai SDK', () => {
  it('returns scripted text and usage, echoing the requested model', async () => {
    fake.script({ text: 'Bonjour.', usage: { input: 12, output: 3, cacheRead: 5 } });
    const res = await oa.chat.completions.create({ model: MODEL_OA, messages: userSays('hi') });
    expect(res.object).toBe('chat.completion');
    expect(res.id).toMatch(/^chatcmpl-/);
    expect(res.model).toBe(MODEL_OA);
    expect(res.choices[0]?.message).toMatchObject({ role: 'assistant', content: 'Bonjour.' });
    expect(res.choices[0]?.finish_reason).toBe('stop');
    expect(res.usage).toMatchObject({
      prompt_tokens: 12,
      completion_tokens: 3,
      total_tokens: 15,
      prompt_tokens_details: { cached_tokens: 5 },
    });
  });

  it('derives default usage from the message contents and the text', async () => {
    const res = await oa.chat.completions.create({
      model: MODEL_OA,
      messages: [
        { role: 'system', content: 'x'.repeat(20) },
        { role: 'user', content: [{ type: 'text', text: 'y'.repeat(21) }] },
      ],
    });
    expect(res.choices[0]?.message.content).toBe(DEFAULT_TEXT);
    expect(res.usage).toMatchObject({ prompt_tokens: 11, completion_tokens: Math.ceil(DEFAULT_TEXT.length / 4) });
  });

  it('streams text deltas and reports usage only when include_usage is asked for', async () => {
    const text = 'The quick brown fox jumps over the lazy dog.';
    fake.script({ text, chunks: 4, usage: { input: 7, output: 11 } }, { text, chunks: 4 });
    const withUsage = [];
    for await (const chunk of await oaStream({ stream_options: { include_usage: true } })) withUsage.push(chunk);
    const deltas = withUsage.flatMap((c) => (c.choices[0]?.delta.content ? [c.choices[0].delta.content] : []));
    expect(deltas).toHaveLength(4);
    expect(deltas.join('')).toBe(text);
    expect(withUsage[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(withUsage.filter((c) => c.choices[0]?.finish_reason === 'stop')).toHaveLength(1);
    expect(withUsage.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 7, completion_tokens: 11, total_tokens: 18 } });

    const without = [];
    for await (const chunk of await oaStream()) without.push(chunk);
    expect(without.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(text);
    expect(without.every((c) => c.usage == null && c.choices.length === 1)).toBe(true);
  });

  it('returns tool calls whose arguments round-trip, streamed or not', async () => {
    fake.script(
      { toolCalls: [{ ...weather, id: 'call_fixed' }] },
      { text: 'Checking.', toolCalls: [weather, { name: 'noop', arguments: {} }] },
    );
    const plain = await oa.chat.completions.create({ model: MODEL_OA, messages: userSays('weather?'), tools: oaTools });
    expect(plain.choices[0]?.finish_reason).toBe('tool_calls');
    expect(plain.choices[0]?.message.content).toBeNull();
    const [call] = plain.choices[0]?.message.tool_calls ?? [];
    expect(call).toMatchObject({ id: 'call_fixed', type: 'function', function: { name: 'get_weather' } });
    expect(JSON.parse(call?.type === 'function' ? call.function.arguments : '')).toEqual(weather.arguments);

    // The SDK's stream helper accumulates tool-call deltas; it rejects malformed ones.
    const streamed = await oa.chat.completions
      .stream({ model: MODEL_OA, messages: userSays('weather?'), tools: oaTools })
      .finalChatCompletion();
    const message = streamed.choices[0]?.message;
    expect(streamed.choices[0]?.finish_reason).toBe('tool_calls');
    expect(message?.content).toBe('Checking.');
    expect(message?.tool_calls?.map((c) => (c.type === 'function' ? [c.id.startsWith('call_'), c.function.name] : []))).toEqual([
      [true, 'get_weather'],
      [true, 'noop'],
    ]);
    expect(message?.tool_calls?.map((c) => (c.type === 'function' ? JSON.parse(c.function.arguments) : null))).toEqual([
      weather.arguments,
      {},
    ]);
  });
});

describe('Anthropic messages through the @anthropic-ai/sdk client', () => {
  it('returns scripted text and usage including cache fields', async () => {
    fake.script({ text: 'Hallo.', usage: { input: 20, output: 4, cacheRead: 100, cacheWrite: 30 } });
    const res = await an.messages.create({ model: MODEL_AN, max_tokens: 100, messages: userSays('hi') });
    expect(res).toMatchObject({ type: 'message', role: 'assistant', model: MODEL_AN, stop_reason: 'end_turn', stop_sequence: null });
    expect(res.id).toMatch(/^msg_/);
    expect(res.content).toEqual([{ type: 'text', text: 'Hallo.' }]);
    expect(res.usage).toMatchObject({ input_tokens: 20, output_tokens: 4, cache_read_input_tokens: 100, cache_creation_input_tokens: 30 });
  });

  it('counts the system prompt and block contents in the default input usage', async () => {
    const content = [{ type: 'text' as const, text: 'y'.repeat(30) }];
    const res = await an.messages.create({
      model: MODEL_AN,
      max_tokens: 10,
      system: 'x'.repeat(10),
      messages: [{ role: 'user', content }],
    });
    expect(res.usage.input_tokens).toBe(10);
  });

  it('streams text deltas with usage split between message_start and message_delta', async () => {
    const text = 'Streaming through the Messages API works.';
    fake.script({ text, chunks: 3, usage: { input: 9, output: 12, cacheRead: 4 } });
    const events = [];
    for await (const event of await anStream()) events.push(event);
    const order = 'message_start content_block_start content_block_delta content_block_delta content_block_delta content_block_stop';
    expect(events.map((e) => e.type).join(' ')).toBe(`${order} message_delta message_stop`);
    const deltas = events.flatMap((e) => (e.type === 'content_block_delta' && e.delta.type === 'text_delta' ? [e.delta.text] : []));
    expect(deltas.join('')).toBe(text);
    const start = events[0]?.type === 'message_start' ? events[0].message : undefined;
    expect(start?.usage).toMatchObject({ input_tokens: 9, output_tokens: 1, cache_read_input_tokens: 4 });
    expect(events.find((e) => e.type === 'message_delta')).toMatchObject({
      delta: { stop_reason: 'end_turn' },
      usage: { output_tokens: 12 },
    });
  });

  it('returns tool_use blocks whose input round-trips, streamed or not', async () => {
    fake.script({ text: 'Let me check.', toolCalls: [{ ...weather, id: 'toolu_fixed' }] }, { toolCalls: [weather] });
    const plain = await an.messages.create({ model: MODEL_AN, max_tokens: 100, messages: userSays('weather?'), tools: anTools });
    expect(plain.stop_reason).toBe('tool_use');
    expect(plain.content).toEqual([
      { type: 'text', text: 'Let me check.' },
      { type: 'tool_use', id: 'toolu_fixed', name: 'get_weather', input: weather.arguments },
    ]);

    // The SDK's MessageStream parses input_json_delta fragments into the final block.
    const streamed = await an.messages
      .stream({ model: MODEL_AN, max_tokens: 100, messages: userSays('weather?'), tools: anTools })
      .finalMessage();
    expect(streamed.stop_reason).toBe('tool_use');
    expect(streamed.content).toHaveLength(1);
    expect(streamed.content[0]).toMatchObject({ type: 'tool_use', name: 'get_weather', input: weather.arguments });
    expect(streamed.content[0]?.type === 'tool_use' && streamed.content[0].id).toMatch(/^toolu_/);
  });
});

describe('raw SSE framing, as a metering proxy reads it', () => {
  const post = (path: string, body: object) =>
    fetch(`${fake.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const framesOf = async (res: Response) => (await res.text()).split('\n\n').filter(Boolean);

  it('OpenAI: data-only frames ending in [DONE], the usage chunk right before it', async () => {
    fake.script({ text: 'abc', chunks: 1, usage: { input: 2, output: 1 } });
    const res = await post('/v1/chat/completions', {
      model: MODEL_OA,
      messages: userSays('hi'),
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const frames = await framesOf(res);
    expect(frames.every((f) => f.startsWith('data: ') && !f.includes('\n'))).toBe(true);
    expect(frames.at(-1)).toBe('data: [DONE]');
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f.slice(6)));
    expect(chunks.map((c) => [c.choices[0]?.delta ?? null, c.choices[0]?.finish_reason ?? null, c.usage])).toEqual([
      [{ role: 'assistant', content: '', refusal: null }, null, null],
      [{ content: 'abc' }, null, null],
      [{}, 'stop', null],
      [null, null, expect.objectContaining({ prompt_tokens: 2, completion_tokens: 1 })],
    ]);
  });

  it('Anthropic: every frame names its event and the data carries the same type', async () => {
    fake.script({ toolCalls: [weather] });
    const res = await post('/v1/messages', { model: MODEL_AN, max_tokens: 10, messages: userSays('hi'), stream: true });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = (await framesOf(res)).map((f) => {
      const [, name, data] = /^event: (\w+)\ndata: (.*)$/.exec(f) ?? [];
      return { name, data: JSON.parse(data ?? 'null') };
    });
    expect(events.every((e) => e.name === e.data.type)).toBe(true);
    const partial = events.flatMap((e) => (e.data.delta?.type === 'input_json_delta' ? [e.data.delta.partial_json] : []));
    expect(partial.length).toBeGreaterThan(1);
    expect(JSON.parse(partial.join(''))).toEqual(weather.arguments);
    expect(events.at(-1)?.name).toBe('message_stop');
  });
});

describe('omitUsage', () => {
  it('reports no usage in either format, streamed or not, yet still finishes', async () => {
    fake.setDefault({ text: 'no meter', omitUsage: true });
    const oaPlain = await oa.chat.completions.create({ model: MODEL_OA, messages: userSays('hi') });
    expect(oaPlain.usage).toBeUndefined();
    const oaChunks = [];
    for await (const chunk of await oaStream({ stream_options: { include_usage: true } })) oaChunks.push(chunk);
    expect(oaChunks.some((c) => c.usage)).toBe(false);
    expect(oaChunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');

    const anPlain = await an.messages.create({ model: MODEL_AN, max_tokens: 10, messages: userSays('hi') });
    expect(anPlain.usage).toBeUndefined();
    const anEvents = [];
    for await (const event of await anStream()) anEvents.push(event);
    expect(anEvents[0]?.type === 'message_start' && anEvents[0].message.usage).toBeUndefined();
    expect(anEvents.find((e) => e.type === 'message_delta')).not.toHaveProperty('usage');
    expect(anEvents.at(-1)?.type).toBe('message_stop');
  });
});

describe('errors', () => {
  it('surface as the OpenAI SDK APIError with the status and message', async () => {
    fake.script(
      { status: 402 },
      { status: 400, errorBody: { error: { message: 'bad model', type: 'invalid_request_error', code: 'x', param: 'model' } } },
    );
    const first = await oa.chat.completions.create({ model: MODEL_OA, messages: userSays('hi') }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(OpenAI.APIError);
    expect(first).toMatchObject({ status: 402, type: 'invalid_request_error', message: '402 Fake provider error (HTTP 402).' });
    const second = await oaStream().catch((e: unknown) => e);
    expect(second).toBeInstanceOf(OpenAI.BadRequestError);
    expect(second).toMatchObject({ status: 400, code: 'x', param: 'model', message: '400 bad model' });
  });

  it('surface as the Anthropic SDK APIError with the status, type and message', async () => {
    fake.script({ status: 401 }, { status: 429, headers: { 'retry-after': '7' } });
    const first = await an.messages.create({ model: MODEL_AN, max_tokens: 10, messages: userSays('hi') }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(first).toMatchObject({ status: 401, type: 'authentication_error', apiMessage: 'Fake provider error (HTTP 401).' });
    expect((first as AnthropicApiError).requestID).toMatch(/^req_/);
    const second = await anStream().catch((e: unknown) => e);
    expect(second).toBeInstanceOf(Anthropic.RateLimitError);
    expect((second as AnthropicApiError).headers?.get('retry-after')).toBe('7');
  });

  it('answers invalid JSON with 400 in each format, unknown routes with 404, and lists models', async () => {
    const post = (path: string) =>
      fetch(`${fake.url}${path}`, { method: 'POST', body: '{not json', headers: { 'content-type': 'application/json' } });
    const oaRes = await post('/v1/chat/completions');
    expect(oaRes.status).toBe(400);
    expect(await oaRes.json()).toMatchObject({ error: { type: 'invalid_request_error', param: null, message: expect.any(String) } });
    const anRes = await post('/v1/messages');
    expect(anRes.status).toBe(400);
    expect(await anRes.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.any(String) } });
    expect((await post('/v1/responses')).status).toBe(404);
    expect(fake.requests).toHaveLength(0);
    expect((await oa.models.list()).data.map((m) => m.id)).toEqual(['gpt-fake-1', 'claude-fake-1']);
  });
});

describe('stream faults and pacing', () => {
  // undici reports the missing end of the chunked body as `TypeError: terminated`; both SDKs let it through.
  const truncated = { name: 'TypeError', message: 'terminated', cause: { code: 'UND_ERR_SOCKET' } };

  it('breakAfterChunks cuts an OpenAI stream mid-way and the SDK iteration throws', async () => {
    fake.script({ text: 'aaaabbbbccccddddeeeeffff', chunks: 6, breakAfterChunks: 2 });
    const seen: string[] = [];
    const failure = await (async () => {
      for await (const chunk of await oaStream({ stream_options: { include_usage: true } })) {
        if (chunk.choices[0]?.finish_reason || chunk.usage) throw new Error('unexpected finish');
        seen.push(chunk.choices[0]?.delta.content ?? '');
      }
    })().catch((e: unknown) => e);
    expect(failure).toMatchObject(truncated);
    expect(seen).toEqual(['', 'aaaa', 'bbbb']);
  });

  it('breakAfterChunks cuts an Anthropic stream mid-way, raw or through the MessageStream helper', async () => {
    fake.setDefault({ text: 'alpha beta gamma delta', chunks: 4, breakAfterChunks: 1 });
    const seen: string[] = [];
    const failure = await (async () => {
      for await (const event of await anStream()) {
        seen.push(event.type === 'content_block_delta' && event.delta.type === 'text_delta' ? event.delta.text : event.type);
      }
    })().catch((e: unknown) => e);
    expect(failure).toMatchObject(truncated);
    expect(seen).toEqual(['message_start', 'content_block_start', 'alpha']);

    const helper = an.messages.stream({ model: MODEL_AN, max_tokens: 100, messages: userSays('hi') });
    const texts: string[] = [];
    helper.on('text', (delta) => texts.push(delta));
    await expect(helper.finalMessage()).rejects.toThrow('terminated');
    expect(texts).toEqual(['alpha']);
  });

  it('chunkDelayMs paces the deltas and delayMs holds the headers', async () => {
    fake.script({ text: 'slow and steady', chunks: 3, chunkDelayMs: 120, delayMs: 150 });
    const started = Date.now();
    const stream = await oaStream();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    const arrivals: number[] = [];
    for await (const chunk of stream) if (chunk.choices[0]?.delta.content) arrivals.push(Date.now());
    expect(arrivals).toHaveLength(3);
    expect(arrivals[2]! - arrivals[0]!).toBeGreaterThanOrEqual(200);
  });
});

describe('recording and scripting', () => {
  it('records each request with its lowercased headers and parsed body', async () => {
    await oa.chat.completions.create({ model: MODEL_OA, messages: userSays('from openai') });
    await an.messages.create({ model: MODEL_AN, max_tokens: 5, messages: userSays('from anthropic') });
    await fake.waitForRequests(2);
    const [first, second] = fake.requests;
    const body = { model: MODEL_OA, messages: userSays('from openai') };
    expect(first).toMatchObject({ format: 'openai', method: 'POST', path: '/v1/chat/completions', body });
    expect(first?.headers).toMatchObject({
      authorization: 'Bearer sk-fake',
      'x-session-id': 'sess-42',
      'content-type': 'application/json',
    });
    expect(second).toMatchObject({
      format: 'anthropic',
      path: '/v1/messages',
      body: { max_tokens: 5, messages: userSays('from anthropic') },
    });
    expect(second!.at).toBeGreaterThanOrEqual(first!.at);
    // @anthropic-ai/sdk 1.x sends the API key as a bearer token; x-api-key only arrives when a client sets it.
    expect(second?.headers).toMatchObject({
      authorization: 'Bearer ak-fake',
      'x-session-id': 'sess-42',
      'anthropic-version': expect.any(String),
    });
    expect(second?.headers['x-api-key']).toBeUndefined();
    const rawKey = new Anthropic({ baseURL: fake.url, apiKey: null, defaultHeaders: { 'x-api-key': 'ak-raw' }, maxRetries: 0 });
    await rawKey.messages.create({ model: MODEL_AN, max_tokens: 5, messages: userSays('x') });
    expect(fake.requests[2]?.headers).toMatchObject({ 'x-api-key': 'ak-raw' });
    expect(fake.requests[2]?.headers.authorization).toBeUndefined();
  });

  it('consumes the queue in order, then falls back to the default; function replies see the request', async () => {
    fake.setDefault((req) => ({ text: `default for ${req.format}` }));
    fake.script({ text: 'first' }, (req) => ({ text: `echo ${req.body.messages[0].content}`, headers: { 'x-fake': 'yes' } }));
    const ask = (content: string) => oa.chat.completions.create({ model: MODEL_OA, messages: userSays(content) }).withResponse();
    const texts = [];
    const headers = [];
    for (const content of ['a', 'b', 'c']) {
      const { data, response } = await ask(content);
      texts.push(data.choices[0]?.message.content);
      headers.push(response.headers.get('x-fake'));
    }
    expect(texts).toEqual(['first', 'echo b', 'default for openai']);
    expect(headers).toEqual([null, 'yes', null]);
    fake.reset();
    expect(fake.requests).toHaveLength(0);
    expect((await ask('d')).data.choices[0]?.message.content).toBe(DEFAULT_TEXT);
  });

  it('waitForRequests resolves when requests arrive and times out otherwise', async () => {
    await expect(fake.waitForRequests(1, 50)).rejects.toThrow(/waited 50 ms for 1 requests, got 0/);
    const waiting = fake.waitForRequests(1, 2_000);
    await an.messages.create({ model: MODEL_AN, max_tokens: 5, messages: userSays('x') });
    await expect(waiting).resolves.toBeUndefined();
  });

  it('close() does not hang on keep-alive sockets or streams in flight', async () => {
    const other = await startFakeProvider();
    const client = new OpenAI({ baseURL: `${other.url}/v1`, apiKey: 'k', maxRetries: 0 });
    await client.chat.completions.create({ model: MODEL_OA, messages: userSays('hi') });
    other.script({ text: 'never finishes in time', chunks: 5, chunkDelayMs: 10_000 });
    const stream = await client.chat.completions.create({ model: MODEL_OA, messages: userSays('hi'), stream: true });
    const consumed = (async () => {
      for await (const _ of stream);
    })().catch((e: unknown) => e);
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await consumed).toBeInstanceOf(Error);
  });
});
