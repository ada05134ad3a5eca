import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayHarness, type GatewayHarness } from '../fixtures/gateway.js';
import { connectRpc, type RpcClient } from '../fixtures/rpc-client.js';

let h: GatewayHarness;
const clients: RpcClient[] = [];
beforeAll(async () => {
  h = await createGatewayHarness();
}, 60_000);
afterAll(async () => {
  for (const client of clients) client.socket.terminate();
  await h?.closeAll();
});

async function connected(token: string) {
  const rpc = await connectRpc(h.baseUrl, token);
  clients.push(rpc);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    rpc.socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return { rpc, closed };
}

/** Well inside the one-minute periodic re-check: only the announced change can explain a close this soon. */
const soon = <T>(promise: Promise<T>) =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the socket stayed open')), 5000))]);

describe('an open WebSocket follows its user’s rights at once', () => {
  it('closes when the account is disabled, and the token no longer opens a new one', async () => {
    const user = await h.createUser('member');
    const { rpc, closed } = await connected(user.token);
    expect(await rpc.request('session/list', {})).toMatchObject({ items: [] });
    expect((await h.request(h.adminToken, 'PATCH', `/api/v1/users/${user.id}`, { disabled: true })).status).toBe(200);
    expect(await soon(closed)).toMatchObject({ code: 4401 });
    await expect(connectRpc(h.baseUrl, user.token)).rejects.toMatchObject({ status: 401 });
  });

  it('closes when an admin is demoted, so the reconnect carries the narrower role', async () => {
    const admin = await h.createUser('admin');
    const { rpc, closed } = await connected(admin.token);
    await rpc.request('session/list', {});
    expect((await h.request(h.adminToken, 'PATCH', `/api/v1/users/${admin.id}`, { role: 'viewer' })).status).toBe(200);
    expect(await soon(closed)).toMatchObject({ code: 4403, reason: expect.stringMatching(/role changed/) });
    const again = await connectRpc(h.baseUrl, admin.token);
    clients.push(again);
    await expect(again.request('session/create', { title: 'Not any more' })).rejects.toMatchObject({ data: { code: 'FORBIDDEN' } });
  });

  it('closes the connection of a revoked token, and leaves the user’s other connections open', async () => {
    const user = await h.createUser('member');
    const second = await h.request(h.adminToken, 'POST', '/api/v1/tokens', { name: 'laptop', userId: user.id });
    const revoked = await connected(user.token);
    const other = await connected(second.body.token);
    const [first] = (await h.request(h.adminToken, 'GET', `/api/v1/tokens?userId=${user.id}`)).body.items.filter(
      (token: { name: string }) => token.name === 'test',
    );
    expect((await h.request(h.adminToken, 'DELETE', `/api/v1/tokens/${first.id}`)).status).toBe(200);
    expect(await soon(revoked.closed)).toMatchObject({ code: 4401 });
    expect(await other.rpc.request('session/list', {})).toMatchObject({ items: [] });
    expect(other.rpc.socket.readyState).toBe(other.rpc.socket.OPEN);
  });

  it('stays open when a change leaves its rights as they were', async () => {
    const user = await h.createUser('member');
    const { rpc } = await connected(user.token);
    expect((await h.request(h.adminToken, 'PATCH', `/api/v1/users/${user.id}`, { displayName: 'Renamed' })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(rpc.socket.readyState).toBe(rpc.socket.OPEN);
    expect(await rpc.request('session/list', {})).toMatchObject({ items: [] });
  });
});
