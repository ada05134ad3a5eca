import { afterEach, describe, expect, it } from 'vitest';
import { createGatewayHarness, type GatewayHarness } from '../fixtures/gateway.js';
import { connectRpc, type RpcClient } from '../fixtures/rpc-client.js';

/** A control plane whose agent runtime has not been started yet: what the first seconds after `switchboard start` look like. */
let h: GatewayHarness | undefined;
let rpc: RpcClient | undefined;
afterEach(async () => {
  await rpc?.close();
  await h?.closeAll();
  rpc = undefined;
  h = undefined;
});

async function notStarted(waitS: number) {
  h = await createGatewayHarness({
    SWITCHBOARD_HARNESS: 'inline',
    SWITCHBOARD_DEFAULT_MODEL: 'gpt-test',
    SWITCHBOARD_HARNESS_WAIT_S: String(waitS),
  });
  const user = await h.createUser('member');
  rpc = await connectRpc(h.baseUrl, user.token);
  return { h, rpc, user };
}

describe('requests that arrive while the agent runtime starts', () => {
  it('wait for it, then get their session; /readyz says not ready until the runtime is', async () => {
    const { h, rpc } = await notStarted(60);
    const early = await h.request(null, 'GET', '/readyz');
    expect(early.status).toBe(503);
    expect(early.body.checks.harness).toEqual({ ok: false, detail: 'starting' });

    const creating = rpc.request('session/create', { title: 'Early bird' });
    const settled = await Promise.race([creating.then(() => 'settled'), new Promise((resolve) => setTimeout(resolve, 500, 'waiting'))]);
    expect(settled).toBe('waiting');
    await h.app.startAgents(h.baseUrl);
    const session = await creating;
    expect(session).toMatchObject({ title: 'Early bird', status: 'idle' });
    expect((await h.request(null, 'GET', '/readyz')).body).toMatchObject({ status: 'ready', checks: { harness: { ok: true } } });
  }, 60_000);

  it('fail with a clear HARNESS_UNAVAILABLE when the wait runs out, and leave nothing half-made', async () => {
    const { h, rpc, user } = await notStarted(1);
    const started = Date.now();
    await expect(rpc.request('session/create', { title: 'Too early' })).rejects.toMatchObject({
      data: { code: 'HARNESS_UNAVAILABLE' },
      message: expect.stringMatching(/not ready \(starting\) after waiting 1 s\. Try again in a moment/),
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(await h.db.sql`select id from sessions where user_id = ${user.id}`).toHaveLength(0);
    expect(await h.db.sql`select id from audit_events where actor_id = ${user.id} and action = 'session.create'`).toHaveLength(0);
  });

  it('revoke the key of a session the runtime could not start, so nothing can spend with it', async () => {
    const { h, rpc, user } = await notStarted(60);
    await h.app.startAgents(h.baseUrl);
    const harness = h.app.harness as NonNullable<typeof h.app.harness>;
    const real = harness.createSession;
    harness.createSession = async () => {
      throw new Error('the runtime refused the session');
    };
    try {
      await expect(rpc.request('session/create', { title: 'Never started' })).rejects.toMatchObject({
        data: { code: 'HARNESS_UNAVAILABLE' },
      });
    } finally {
      harness.createSession = real;
    }
    const [session] = await h.db.sql<{ id: string; status: string }[]>`select id, status from sessions where user_id = ${user.id}`;
    expect(session?.status).toBe('error');
    const keys = await h.db.sql<{ revoked_at: Date | null }[]>`select revoked_at from session_keys where session_id = ${session?.id ?? ''}`;
    expect(keys).toHaveLength(1);
    expect(keys[0]?.revoked_at).not.toBeNull();
  }, 60_000);
});
