import { ErrorEnvelope } from '@switchboard/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { dump } from '../fixtures/json.js';
import { connectRpc } from '../fixtures/rpc-client.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

const missing = '00000000-0000-4000-8000-000000000000';

function expectError(response: { status: number; body: any }, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(ErrorEnvelope.parse(response.body).error.code).toBe(code);
  expect(JSON.stringify(response.body)).not.toMatch(/at .+\.(ts|js):\d+|select |insert |violates/i);
}

describe('health', () => {
  it('answers healthz without a token and readyz with the database state', async () => {
    expect((await t.request(null, 'GET', '/healthz')).body).toMatchObject({ status: 'ok' });
    const ready = await t.request(null, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.database.ok).toBe(true);
  });
});

describe('authentication', () => {
  it('refuses requests without, with malformed or with unknown tokens', async () => {
    expectError(await t.request(null, 'GET', '/api/v1/me'), 401, 'UNAUTHORIZED');
    expectError(await t.request('sb_notarealtokennotarealtoken', 'GET', '/api/v1/me'), 401, 'UNAUTHORIZED');
    const basic = await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: 'Basic abc' } });
    expect(basic.statusCode).toBe(401);
  });

  it('refuses before reading the body', async () => {
    expectError(await t.request(null, 'POST', '/api/v1/users', { email: 'bad' }), 401, 'UNAUTHORIZED');
  });

  it('returns the caller from /me', async () => {
    const me = await t.request(t.adminToken, 'GET', '/api/v1/me');
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({ id: t.adminId, role: 'admin', email: 'admin@localhost' });
  });

  it('stops accepting a revoked token, and records its last use', async () => {
    const member = await t.createUser('member');
    expect((await t.request(member.token, 'GET', '/api/v1/me')).status).toBe(200);
    const tokens = await t.request(member.token, 'GET', '/api/v1/tokens');
    expect(tokens.body.items).toHaveLength(1);
    expect(tokens.body.items[0].lastUsedAt).not.toBeNull();
    expect(JSON.stringify(tokens.body)).not.toContain(member.token);
    const revoked = await t.request(member.token, 'DELETE', `/api/v1/tokens/${tokens.body.items[0].id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    expectError(await t.request(member.token, 'GET', '/api/v1/me'), 401, 'UNAUTHORIZED');
  });

  it('refuses expired tokens and tokens of disabled users', async () => {
    const member = await t.createUser('member');
    await t.db.sql`update api_tokens set expires_at = now() - interval '1 second' where user_id = ${member.id}`;
    const expired = await t.request(member.token, 'GET', '/api/v1/me');
    expectError(expired, 401, 'UNAUTHORIZED');
    expect(expired.body.error.message).toMatch(/expired/);

    const other = await t.createUser('member');
    expect((await t.request(t.adminToken, 'PATCH', `/api/v1/users/${other.id}`, { disabled: true })).status).toBe(200);
    expect((await t.request(other.token, 'GET', '/api/v1/me')).body.error.message).toMatch(/disabled/);
    expect((await t.request(t.adminToken, 'PATCH', `/api/v1/users/${other.id}`, { disabled: false })).status).toBe(200);
    expect((await t.request(other.token, 'GET', '/api/v1/me')).status).toBe(200);
  });
});

describe('users', () => {
  it('lets an admin create, read, list and update users', async () => {
    const created = await t.request(t.adminToken, 'POST', '/api/v1/users', {
      email: 'Grace@Example.com',
      displayName: 'Grace',
      role: 'viewer',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ email: 'grace@example.com', role: 'viewer', disabled: false });
    expect((await t.request(t.adminToken, 'GET', `/api/v1/users/${created.body.id}`)).body.email).toBe('grace@example.com');
    const updated = await t.request(t.adminToken, 'PATCH', `/api/v1/users/${created.body.id}`, { role: 'member', displayName: 'Grace H.' });
    expect(updated.body).toMatchObject({ role: 'member', displayName: 'Grace H.' });
    const list = await t.request(t.adminToken, 'GET', '/api/v1/users?limit=500');
    expect(list.body.items.map((user: { email: string }) => user.email)).toContain('grace@example.com');
  });

  it('pages through users with a cursor, without repeats', async () => {
    for (let i = 0; i < 5; i++) await t.createUser('member', `page-${i}@example.org`);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: any } = await t.request(
        t.adminToken,
        'GET',
        `/api/v1/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((user: { email: string }) => user.email));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...seen].sort());
    for (let i = 0; i < 5; i++) expect(seen).toContain(`page-${i}@example.org`);
  });

  it('answers 409 for a duplicate email, whatever its case', async () => {
    await t.createUser('member', 'dup@example.com');
    const again = await t.request(t.adminToken, 'POST', '/api/v1/users', { email: 'DUP@example.com', displayName: 'Dup' });
    expectError(again, 409, 'CONFLICT');
  });

  it('answers 400 naming the field for malformed bodies and ids', async () => {
    const bad = await t.request(t.adminToken, 'POST', '/api/v1/users', { email: 'not-an-email', displayName: 'X' });
    expectError(bad, 400, 'BAD_REQUEST');
    expect(bad.body.error.details.issues[0].path).toBe('email');
    expect(bad.body.error.message).toContain('email');
    const extra = await t.request(t.adminToken, 'POST', '/api/v1/users', { email: 'x@y.co', displayName: 'X', admin: true });
    expectError(extra, 400, 'BAD_REQUEST');
    expectError(await t.request(t.adminToken, 'GET', '/api/v1/users/not-a-uuid'), 400, 'BAD_REQUEST');
    expectError(await t.request(t.adminToken, 'PATCH', `/api/v1/users/${t.adminId}`, {}), 400, 'BAD_REQUEST');
    const notJson = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
      payload: '{"email":',
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().error.code).toBe('BAD_REQUEST');
  });

  it('answers 404 for unknown ids and routes', async () => {
    expectError(await t.request(t.adminToken, 'GET', `/api/v1/users/${missing}`), 404, 'NOT_FOUND');
    expectError(await t.request(t.adminToken, 'PATCH', `/api/v1/users/${missing}`, { role: 'viewer' }), 404, 'NOT_FOUND');
    expectError(await t.request(t.adminToken, 'GET', '/api/v1/nothing-here'), 404, 'NOT_FOUND');
  });

  it('answers 413 for a body over the limit', async () => {
    const big = await t.request(t.adminToken, 'POST', '/api/v1/users', { email: 'a@b.co', displayName: 'x'.repeat(2 * 1024 * 1024) });
    expectError(big, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('keeps at least one active admin', async () => {
    const demote = await t.request(t.adminToken, 'PATCH', `/api/v1/users/${t.adminId}`, { role: 'member' });
    expectError(demote, 409, 'CONFLICT');
    expectError(await t.request(t.adminToken, 'PATCH', `/api/v1/users/${t.adminId}`, { disabled: true }), 409, 'CONFLICT');
    const second = await t.createUser('admin');
    expect((await t.request(second.token, 'PATCH', `/api/v1/users/${second.id}`, { role: 'member' })).status).toBe(200);
  });
});

describe('roles', () => {
  it('gives members 403 on admin routes and lets them see only themselves', async () => {
    const member = await t.createUser('member');
    expectError(await t.request(member.token, 'POST', '/api/v1/users', { email: 'm@x.co', displayName: 'M' }), 403, 'FORBIDDEN');
    expectError(await t.request(member.token, 'GET', '/api/v1/users'), 403, 'FORBIDDEN');
    expectError(await t.request(member.token, 'PATCH', `/api/v1/users/${member.id}`, { role: 'admin' }), 403, 'FORBIDDEN');
    expectError(await t.request(member.token, 'GET', `/api/v1/users/${t.adminId}`), 403, 'FORBIDDEN');
    expectError(await t.request(member.token, 'POST', '/api/v1/teams', { name: 'Nope' }), 403, 'FORBIDDEN');
    expectError(await t.request(member.token, 'GET', '/api/v1/audit'), 403, 'FORBIDDEN');
    expect((await t.request(member.token, 'GET', `/api/v1/users/${member.id}`)).status).toBe(200);
  });

  it('lets viewers read but not write', async () => {
    const viewer = await t.createUser('viewer');
    expect((await t.request(viewer.token, 'GET', '/api/v1/users')).status).toBe(200);
    expect((await t.request(viewer.token, 'GET', '/api/v1/audit')).status).toBe(200);
    expectError(await t.request(viewer.token, 'POST', '/api/v1/users', { email: 'v@x.co', displayName: 'V' }), 403, 'FORBIDDEN');
    expectError(await t.request(viewer.token, 'POST', '/api/v1/tokens', { name: 'x', userId: t.adminId }), 403, 'FORBIDDEN');
  });
});

describe('tokens', () => {
  it('shows a new token once, stores only its hash, and lets the owner use it', async () => {
    const member = await t.createUser('member');
    const created = await t.request(member.token, 'POST', '/api/v1/tokens', { name: 'laptop', expiresInDays: 7 });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^sb_[A-Za-z0-9_-]{43}$/);
    expect(created.body.hint).toBe(created.body.token.slice(0, 7));
    expect(new Date(created.body.expiresAt).getTime()).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    const rows = await t.db.sql`select * from api_tokens where id = ${created.body.id}`;
    expect(dump(rows)).not.toContain(created.body.token);
    expect((await t.request(created.body.token, 'GET', '/api/v1/me')).body.tokenId).toBe(created.body.id);
  });

  it('lets admins create, list and revoke tokens for others; members only their own', async () => {
    const member = await t.createUser('member');
    const other = await t.createUser('member');
    const forMember = await t.request(t.adminToken, 'POST', '/api/v1/tokens', { name: 'ci', userId: member.id });
    expect(forMember.body.userId).toBe(member.id);
    const listed = await t.request(t.adminToken, 'GET', `/api/v1/tokens?userId=${member.id}`);
    expect(listed.body.items.map((token: { id: string }) => token.id)).toContain(forMember.body.id);
    expectError(await t.request(other.token, 'GET', `/api/v1/tokens?userId=${member.id}`), 403, 'FORBIDDEN');
    expectError(await t.request(other.token, 'DELETE', `/api/v1/tokens/${forMember.body.id}`), 404, 'NOT_FOUND');
    expect((await t.request(t.adminToken, 'DELETE', `/api/v1/tokens/${forMember.body.id}`)).status).toBe(200);
    expectError(await t.request(t.adminToken, 'DELETE', `/api/v1/tokens/${forMember.body.id}`), 409, 'CONFLICT');
    const withRevoked = await t.request(t.adminToken, 'GET', `/api/v1/tokens?userId=${member.id}&includeRevoked=true`);
    expect(withRevoked.body.items.find((token: { id: string }) => token.id === forMember.body.id).revokedAt).not.toBeNull();
    expectError(await t.request(t.adminToken, 'POST', '/api/v1/tokens', { name: 'x', userId: missing }), 404, 'NOT_FOUND');
  });
});

describe('teams', () => {
  it('creates teams, adds and removes members, and shows members only their teams', async () => {
    const alice = await t.createUser('member');
    const bob = await t.createUser('member');
    const team = await t.request(t.adminToken, 'POST', '/api/v1/teams', { name: 'Platform' });
    expect(team.status).toBe(201);
    expectError(await t.request(t.adminToken, 'POST', '/api/v1/teams', { name: 'platform' }), 409, 'CONFLICT');
    const added = await t.request(t.adminToken, 'POST', `/api/v1/teams/${team.body.id}/members`, { userId: alice.id });
    expect(added.body.members.map((member: { userId: string }) => member.userId)).toEqual([alice.id]);
    expectError(await t.request(t.adminToken, 'POST', `/api/v1/teams/${team.body.id}/members`, { userId: alice.id }), 409, 'CONFLICT');
    expectError(await t.request(t.adminToken, 'POST', `/api/v1/teams/${team.body.id}/members`, { userId: missing }), 404, 'NOT_FOUND');
    expectError(await t.request(t.adminToken, 'POST', `/api/v1/teams/${missing}/members`, { userId: alice.id }), 404, 'NOT_FOUND');

    expect((await t.request(alice.token, 'GET', '/api/v1/teams')).body.items.map((item: { name: string }) => item.name)).toEqual([
      'Platform',
    ]);
    expect((await t.request(bob.token, 'GET', '/api/v1/teams')).body.items).toEqual([]);
    expectError(await t.request(bob.token, 'GET', `/api/v1/teams/${team.body.id}`), 404, 'NOT_FOUND');
    expect((await t.request(alice.token, 'GET', '/api/v1/me')).body.teams).toEqual([{ id: team.body.id, name: 'Platform' }]);

    const removed = await t.request(t.adminToken, 'DELETE', `/api/v1/teams/${team.body.id}/members/${alice.id}`);
    expect(removed.body.members).toEqual([]);
    expectError(await t.request(t.adminToken, 'DELETE', `/api/v1/teams/${team.body.id}/members/${alice.id}`), 404, 'NOT_FOUND');
  });
});

describe('rate limits', () => {
  const wrong = (i: number) => `sb_w${i}ongwrongwrongwrongwrongwrong`;

  it('answers 429 after too many failed authentications from one address, and still lets valid tokens in', async () => {
    const limited = await createTestApp({ SWITCHBOARD_AUTH_FAILURES_PER_MINUTE: '3' });
    try {
      const member = await limited.createUser('member');
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await limited.request(wrong(i), 'GET', '/api/v1/me')).status);
      expect(statuses).toEqual([401, 401, 401, 429, 429, 429]);
      const refused = await limited.request(null, 'GET', '/api/v1/me');
      expectError(refused, 429, 'RATE_LIMITED');
      expect(refused.body.error.message).toMatch(/from this address/);
      // Everyone behind one proxy shares its address: one person's failures must not lock the rest out.
      expect((await limited.request(limited.adminToken, 'GET', '/api/v1/me')).status).toBe(200);
      expect((await limited.request(member.token, 'GET', '/api/v1/me')).status).toBe(200);
      const rows = await limited.db.sql`select action, payload from audit_events where outcome = 'denied' order by id`;
      expect(rows.map((row) => row.action)).toEqual(['auth.denied', 'auth.denied', 'auth.denied', 'auth.rate_limited']);
      expect(rows[3]!.payload).toMatchObject({ scope: 'address' });
    } finally {
      await limited.close();
    }
  });

  it('limits one account however many addresses its failures come from, and no one else', async () => {
    const limited = await createTestApp({ SWITCHBOARD_AUTH_FAILURES_PER_MINUTE: '3', SWITCHBOARD_TRUST_PROXY: '127.0.0.1' });
    try {
      const from = async (address: string, token: string) =>
        limited.app.inject({
          method: 'GET',
          url: '/api/v1/me',
          headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': address },
        });
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await from(`203.0.113.${i + 1}`, `sb_same${i}wrongwrongwrongwrongwrong`)).statusCode);
      expect(statuses).toEqual([401, 401, 401, 429, 429, 429]);
      const limitedAnswer = await from('203.0.113.50', 'sb_sameXwrongwrongwrongwrongwrong');
      expect(limitedAnswer.json().error.message).toMatch(/with this token/);
      expect((await from('203.0.113.50', wrong(1))).statusCode).toBe(401);
      expect((await from('203.0.113.1', limited.adminToken)).statusCode).toBe(200);
      const rows = await limited.db.sql<{ ip: string; action: string; payload: any }[]>`
        select ip, action, payload from audit_events where outcome = 'denied' order by id`;
      expect(rows.slice(0, 3).map((row) => row.ip)).toEqual(['203.0.113.1', '203.0.113.2', '203.0.113.3']);
      expect(rows[3]).toMatchObject({ action: 'auth.rate_limited', ip: '203.0.113.4', payload: { scope: 'account' } });
    } finally {
      await limited.close();
    }
  });

  it('holds the WebSocket, the gateway and REST to one count, without locking out valid tokens', async () => {
    const limited = await createTestApp({ SWITCHBOARD_AUTH_FAILURES_PER_MINUTE: '3' });
    try {
      const baseUrl = await limited.app.listen({ host: '127.0.0.1', port: 0 });
      for (let i = 0; i < 2; i++) expect((await limited.request(wrong(i), 'GET', '/api/v1/me')).status).toBe(401);
      const model = await fetch(`${baseUrl}/gateway/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${wrong(2)}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'x', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(model.status).toBe(401);
      await expect(connectRpc(baseUrl, wrong(3))).rejects.toMatchObject({ status: 429 });
      const rpc = await connectRpc(baseUrl, limited.adminToken);
      await rpc.close();
    } finally {
      await limited.close();
    }
  });

  it('believes X-Forwarded-For only from a proxy named in SWITCHBOARD_TRUST_PROXY', async () => {
    const addressOf = async (app: TestApp, remoteAddress: string) => {
      await app.app.inject({ method: 'GET', url: '/api/v1/me', remoteAddress, headers: { 'x-forwarded-for': '198.51.100.7' } });
      const [row] = await app.db.sql<{ ip: string }[]>`select ip from audit_events where action = 'auth.denied' order by id desc limit 1`;
      return row!.ip;
    };
    expect(await addressOf(t, '127.0.0.1')).toBe('127.0.0.1');
    const proxied = await createTestApp({ SWITCHBOARD_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' });
    try {
      expect(await addressOf(proxied, '127.0.0.1')).toBe('198.51.100.7');
      expect(await addressOf(proxied, '10.1.2.3')).toBe('198.51.100.7');
      // A client that is not one of the proxies cannot forge its address.
      expect(await addressOf(proxied, '192.0.2.44')).toBe('192.0.2.44');
    } finally {
      await proxied.close();
    }
  });
});

describe('OpenAPI', () => {
  it('describes every route with its schemas, and serves the docs page', async () => {
    const spec = await t.request(null, 'GET', '/api/v1/openapi.json');
    expect(spec.status).toBe(200);
    expect(spec.body.openapi).toMatch(/^3\./);
    const paths = Object.keys(spec.body.paths);
    for (const route of [
      '/api/v1/users',
      '/api/v1/users/{id}',
      '/api/v1/tokens',
      '/api/v1/teams/{id}/members',
      '/api/v1/me',
      '/api/v1/audit/verify',
    ]) {
      expect(paths).toContain(route);
    }
    const createUser = spec.body.paths['/api/v1/users'].post;
    expect(createUser.requestBody.content['application/json'].schema.properties.email).toBeDefined();
    const docs = await t.app.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('<html');
  });
});

describe('team approval policy', () => {
  it('is set by admins, read by members of the team, validated, and restored to the default with null', async () => {
    const member = await t.createUser('member');
    const team = await t.request(t.adminToken, 'POST', '/api/v1/teams', { name: `Policy ${Date.now()}` });
    await t.request(t.adminToken, 'POST', `/api/v1/teams/${team.body.id}/members`, { userId: member.id });
    const initial = await t.request(member.token, 'GET', `/api/v1/teams/${team.body.id}/approval-policy`);
    expect(initial.body.policy).toBeNull();
    expect(initial.body.effective).toContainEqual({ tool: 'bash', pattern: '*', action: 'ask' });
    const policy = [
      { tool: '*', pattern: '*', action: 'allow' },
      { tool: 'bash', pattern: 'rm *', action: 'deny' },
    ];
    expect((await t.request(member.token, 'PUT', `/api/v1/teams/${team.body.id}/approval-policy`, { policy })).status).toBe(403);
    const set = await t.request(t.adminToken, 'PUT', `/api/v1/teams/${team.body.id}/approval-policy`, { policy });
    expect(set.body).toMatchObject({ policy, effective: policy });
    expect((await t.request(member.token, 'GET', `/api/v1/teams/${team.body.id}/approval-policy`)).body.policy).toEqual(policy);
    const bad = await t.request(t.adminToken, 'PUT', `/api/v1/teams/${team.body.id}/approval-policy`, {
      policy: [{ tool: 'bash', action: 'maybe' }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues[0].path).toBe('policy.0.action');
    const reset = await t.request(t.adminToken, 'PUT', `/api/v1/teams/${team.body.id}/approval-policy`, { policy: null });
    expect(reset.body.policy).toBeNull();
    const rows = await t.db.sql`select outcome from audit_events where action = 'team.policy' and target_id = ${team.body.id} order by id`;
    expect(rows.map((row) => row.outcome)).toEqual(['denied', 'ok', 'error', 'ok']);
  });
});
