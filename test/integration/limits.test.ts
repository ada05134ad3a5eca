import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayHarness, type GatewayHarness } from '../fixtures/gateway.js';
import { connectRpc, type RpcClient } from '../fixtures/rpc-client.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');
let h: GatewayHarness;
const clients: RpcClient[] = [];
beforeAll(async () => {
  h = await createGatewayHarness({
    SWITCHBOARD_MAX_PENDING_UPLOADS_PER_USER: '3',
    SWITCHBOARD_UPLOAD_LIMIT_BYTES: '4096',
    SWITCHBOARD_WS_CONNECTIONS_PER_USER: '2',
  });
}, 60_000);
afterAll(async () => {
  for (const client of clients) client.socket.terminate();
  await h?.closeAll();
});

describe('limits on what one user can hold', () => {
  it('keeps the uploads no session has used to a count and to twice the upload limit in bytes', async () => {
    const user = await h.createUser('member');
    const upload = (bytes: number) =>
      h.request(user.token, 'POST', '/api/v1/uploads', { files: [{ path: 'a.txt', content: b64('x'.repeat(bytes)) }] });
    for (let i = 0; i < 3; i += 1) expect((await upload(10)).status).toBe(201);
    const fourth = await upload(10);
    expect(fourth.status).toBe(429);
    expect(fourth.body.error).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringMatching(/3 uploads no session has used yet/) });

    const other = await h.createUser('member');
    const big = (bytes: number) =>
      h.request(other.token, 'POST', '/api/v1/uploads', { files: [{ path: 'a.txt', content: b64('y'.repeat(bytes)) }] });
    expect((await big(3000)).status).toBe(201);
    expect((await big(3000)).status).toBe(201);
    // 9,000 bytes would pass twice the 4,096-byte upload limit.
    expect((await big(3000)).status).toBe(429);
    expect((await h.db.sql`select count(*)::int as n from uploads where user_id = ${other.id}`)[0]?.n).toBe(2);
  });

  it('keeps one user to a number of open WebSocket connections, and lets the next one in when one closes', async () => {
    const user = await h.createUser('member');
    for (let i = 0; i < 2; i += 1) clients.push(await connectRpc(h.baseUrl, user.token));
    await expect(connectRpc(h.baseUrl, user.token)).rejects.toMatchObject({ status: 429 });
    const someoneElse = await h.createUser('member');
    clients.push(await connectRpc(h.baseUrl, someoneElse.token));
    await clients[0]?.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const again = await connectRpc(h.baseUrl, user.token);
    clients.push(again);
    expect(await again.request('session/list', {})).toMatchObject({ items: [] });
  });
});

describe('open sessions per user', () => {
  let agents: GatewayHarness;
  beforeAll(async () => {
    agents = await createGatewayHarness({
      SWITCHBOARD_HARNESS: 'inline',
      SWITCHBOARD_DEFAULT_MODEL: 'gpt-test',
      SWITCHBOARD_MAX_SESSIONS_PER_USER: '2',
    });
    await agents.app.startAgents(agents.baseUrl);
  }, 120_000);
  afterAll(() => agents?.closeAll());

  it('refuses a session past the limit, leaving nothing behind, and allows one again after an archive', async () => {
    const user = await agents.createUser('member');
    const rpc = await connectRpc(agents.baseUrl, user.token);
    clients.push(rpc);
    const first = await rpc.request('session/create', { title: 'One' });
    await rpc.request('session/create', { title: 'Two' });
    await expect(rpc.request('session/create', { title: 'Three' })).rejects.toMatchObject({
      data: { code: 'RATE_LIMITED' },
      message: expect.stringMatching(/2 open sessions.*Archive/),
    });
    expect(await agents.db.sql`select title from sessions where user_id = ${user.id} order by title`).toEqual([
      { title: 'One' },
      { title: 'Two' },
    ]);
    await rpc.request('session/archive', { sessionId: first.id });
    expect(await rpc.request('session/create', { title: 'Three' })).toMatchObject({ title: 'Three' });
  }, 60_000);
});
