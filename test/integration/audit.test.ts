import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM } from '../../control-plane/src/audit/actions.js';
import { insertUser } from '../../control-plane/src/users/user-repository.js';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { dump } from '../fixtures/json.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

async function newRows(since: bigint) {
  return t.db.sql<
    {
      id: bigint;
      action: string;
      actor_type: string;
      actor_id: string | null;
      token_id: string | null;
      target_type: string | null;
      target_id: string | null;
      outcome: string;
      payload: any;
      ip: string | null;
    }[]
  >`
    select * from audit_events where id > ${since} order by id`;
}
async function headId(): Promise<bigint> {
  const [row] = await t.db.sql<{ last_id: bigint }[]>`select last_id from audit_head`;
  return row!.last_id;
}
async function verify() {
  return (await t.request(t.adminToken, 'GET', '/api/v1/audit/verify')).body;
}

describe('every mutating route records exactly one row', () => {
  it('with the right action, actor, token, address and target', async () => {
    const admin = await t.request(t.adminToken, 'GET', '/api/v1/me');
    const adminTokenId = admin.body.tokenId;
    const expectOne = async (since: bigint, action: string, targetType: string, targetId: string) => {
      const rows = await newRows(since);
      expect(rows.map((row) => row.action)).toEqual([action]);
      expect(rows[0]).toMatchObject({
        actor_type: 'user',
        actor_id: t.adminId,
        token_id: adminTokenId,
        outcome: 'ok',
        target_type: targetType,
        target_id: targetId,
        ip: '127.0.0.1',
      });
      return rows[0]!;
    };

    let since = await headId();
    const user = await t.request(t.adminToken, 'POST', '/api/v1/users', { email: 'audited@example.com', displayName: 'Audited' });
    expect((await expectOne(since, 'user.create', 'user', user.body.id)).payload).toMatchObject({
      email: 'audited@example.com',
      role: 'member',
    });

    since = await headId();
    await t.request(t.adminToken, 'PATCH', `/api/v1/users/${user.body.id}`, { role: 'viewer' });
    expect((await expectOne(since, 'user.update', 'user', user.body.id)).payload).toEqual({
      changes: { role: { from: 'member', to: 'viewer' } },
    });

    since = await headId();
    const token = await t.request(t.adminToken, 'POST', '/api/v1/tokens', { name: 'ci', userId: user.body.id });
    const tokenRow = await expectOne(since, 'token.create', 'token', token.body.id);
    expect(dump(tokenRow)).not.toContain(token.body.token);

    since = await headId();
    await t.request(t.adminToken, 'DELETE', `/api/v1/tokens/${token.body.id}`);
    await expectOne(since, 'token.revoke', 'token', token.body.id);

    since = await headId();
    const team = await t.request(t.adminToken, 'POST', '/api/v1/teams', { name: 'Audited team' });
    await expectOne(since, 'team.create', 'team', team.body.id);

    since = await headId();
    await t.request(t.adminToken, 'POST', `/api/v1/teams/${team.body.id}/members`, { userId: user.body.id });
    expect((await expectOne(since, 'team.member.add', 'team', team.body.id)).payload).toMatchObject({ userId: user.body.id });

    since = await headId();
    await t.request(t.adminToken, 'DELETE', `/api/v1/teams/${team.body.id}/members/${user.body.id}`);
    await expectOne(since, 'team.member.remove', 'team', team.body.id);

    expect(await verify()).toMatchObject({ ok: true });
  });

  it('records reads as nothing', async () => {
    const since = await headId();
    await t.request(t.adminToken, 'GET', '/api/v1/users');
    await t.request(t.adminToken, 'GET', '/api/v1/teams');
    await t.request(t.adminToken, 'GET', '/api/v1/me');
    expect(await newRows(since)).toEqual([]);
  });
});

describe('failed and denied attempts', () => {
  it('records a 401 as auth.denied without the presented token', async () => {
    const since = await headId();
    const fake = 'sb_thisIsNotARealTokenButLooksLikeOne123';
    await t.request(fake, 'GET', '/api/v1/me');
    const rows = await newRows(since);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: 'auth.denied', outcome: 'denied', actor_type: 'anonymous', ip: '127.0.0.1' });
    expect(rows[0]!.payload).toMatchObject({ reason: 'unknown_token', url: '/api/v1/me' });
    expect(dump(rows)).not.toContain(fake);
  });

  it('records a 403 under the route action with outcome denied', async () => {
    const member = await t.createUser('member');
    const since = await headId();
    await t.request(member.token, 'POST', '/api/v1/teams', { name: 'Sneaky' });
    await t.request(member.token, 'GET', '/api/v1/audit');
    const rows = await newRows(since);
    expect(rows.map((row) => [row.action, row.outcome, row.actor_id])).toEqual([
      ['team.create', 'denied', member.id],
      ['access.denied', 'denied', member.id],
    ]);
  });

  it('records a failed change as an error row and leaves no trace of the change', async () => {
    await t.createUser('member', 'taken@example.com');
    const since = await headId();
    const again = await t.request(t.adminToken, 'POST', '/api/v1/users', { email: 'taken@example.com', displayName: 'Again' });
    expect(again.status).toBe(409);
    const rows = await newRows(since);
    expect(rows.map((row) => [row.action, row.outcome])).toEqual([['user.create', 'error']]);
    expect(rows[0]!.payload).toMatchObject({ code: 'CONFLICT' });
    const [count] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from users where lower(email) = 'taken@example.com'`;
    expect(count!.n).toBe(1);
  });

  it('rolls back the row with its change: neither exists after a failed transaction', async () => {
    const since = await headId();
    await expect(
      t.db.sql.begin(async (tx) => {
        const user = await insertUser(tx, { email: 'ghost@example.com', displayName: 'Ghost', role: 'member' });
        await t.app.audit.record(tx, SYSTEM, { action: 'user.create', target: { type: 'user', id: user.id } });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await newRows(since)).toEqual([]);
    expect(await headId()).toBe(since);
    expect(await t.db.sql`select 1 from users where email = 'ghost@example.com'`).toHaveLength(0);
    await t.request(t.adminToken, 'POST', '/api/v1/teams', { name: 'After rollback' });
    expect(await verify()).toMatchObject({ ok: true });
  });
});

describe('append-only and tamper-evident', () => {
  it('refuses UPDATE, DELETE and TRUNCATE through normal SQL', async () => {
    await expect(t.db.sql`update audit_events set outcome = 'ok' where id = 1`).rejects.toThrow(/append-only/);
    await expect(t.db.sql`delete from audit_events where id = 1`).rejects.toThrow(/append-only/);
    await expect(t.db.sql`truncate audit_events`).rejects.toThrow(/append-only/);
    await expect(t.db.sql`update audit_anchor set through_id = 5`).rejects.toThrow(/append-only/);
  });

  it('reports the first bad row after a payload is edited behind the trigger', async () => {
    const tampered = await createTestApp();
    try {
      for (let i = 0; i < 5; i++) await tampered.createUser('member');
      expect((await tampered.request(tampered.adminToken, 'GET', '/api/v1/audit/verify')).body).toEqual({ ok: true, checked: 11 });
      await tampered.db.sql.begin(async (tx) => {
        await tx`set local session_replication_role = replica`;
        await tx`update audit_events set payload = jsonb_set(payload, '{role}', '"admin"') where id = 4`;
      });
      const result = (await tampered.request(tampered.adminToken, 'GET', '/api/v1/audit/verify')).body;
      expect(result).toMatchObject({ ok: false, firstBadId: '4', checked: 3 });
      expect(result.reason).toMatch(/changed/);
    } finally {
      await tampered.close();
    }
  });

  it('reports a deleted middle row and a deleted last row', async () => {
    const tampered = await createTestApp();
    try {
      for (let i = 0; i < 4; i++) await tampered.createUser('member');
      await tampered.db.sql.begin(async (tx) => {
        await tx`set local session_replication_role = replica`;
        await tx`delete from audit_events where id = 5`;
      });
      expect((await tampered.request(tampered.adminToken, 'GET', '/api/v1/audit/verify')).body).toMatchObject({
        ok: false,
        firstBadId: '5',
      });

      const tail = await createTestApp();
      try {
        await tail.createUser('member');
        const [head] = await tail.db.sql<{ last_id: bigint }[]>`select last_id from audit_head`;
        await tail.db.sql.begin(async (tx) => {
          await tx`set local session_replication_role = replica`;
          await tx`delete from audit_events where id = ${head!.last_id}`;
        });
        expect((await tail.request(tail.adminToken, 'GET', '/api/v1/audit/verify')).body).toMatchObject({
          ok: false,
          firstBadId: head!.last_id.toString(),
        });
      } finally {
        await tail.close();
      }
    } finally {
      await tampered.close();
    }
  });

  it('keeps the chain whole under 20 concurrent writers × 200 actions', async () => {
    const pool = t.db.connectAgain(20);
    try {
      const before = await headId();
      await Promise.all(
        Array.from({ length: 20 }, (_, writer) =>
          (async () => {
            for (let i = 0; i < 200; i++) {
              await pool.begin((tx) => t.app.audit.record(tx, { type: 'system' }, { action: 'team.create', payload: { writer, i } }));
            }
          })(),
        ),
      );
      expect(await headId()).toBe(before + 4000n);
      const [gaps] = await t.db.sql<{ n: number; min: bigint; max: bigint }[]>`
        select count(*)::int as n, min(id) as min, max(id) as max from audit_events where id > ${before}`;
      expect(gaps).toMatchObject({ n: 4000, min: before + 1n, max: before + 4000n });
      expect(await verify()).toMatchObject({ ok: true });
    } finally {
      await pool.end({ timeout: 5 });
    }
  });
});

describe('query and export', () => {
  it('filters by actor, action prefix, target and outcome, newest first, with keyset pages', async () => {
    const member = await t.createUser('member');
    await t.request(member.token, 'POST', '/api/v1/tokens', { name: 'one' });
    await t.request(member.token, 'POST', '/api/v1/tokens', { name: 'two' });
    await t.request(member.token, 'POST', '/api/v1/tokens', { name: 'three' });
    const page1 = await t.request(t.adminToken, 'GET', `/api/v1/audit?actorId=${member.id}&action=token.&limit=2`);
    expect(page1.body.items.map((item: any) => item.payload.name)).toEqual(['three', 'two']);
    expect(page1.body.nextCursor).not.toBeNull();
    const page2 = await t.request(
      t.adminToken,
      'GET',
      `/api/v1/audit?actorId=${member.id}&action=token.&limit=2&cursor=${page1.body.nextCursor}`,
    );
    expect(page2.body.items.map((item: any) => item.payload.name)).toEqual(['one']);
    expect(page2.body.nextCursor).toBeNull();
    const denied = await t.request(t.adminToken, 'GET', '/api/v1/audit?outcome=denied&limit=500');
    expect(denied.body.items.every((item: any) => item.outcome === 'denied')).toBe(true);
    const byTarget = await t.request(t.adminToken, 'GET', `/api/v1/audit?targetType=user&targetId=${member.id}`);
    expect(byTarget.body.items.map((item: any) => item.action)).toEqual(['user.create']);
    expect((await t.request(t.adminToken, 'GET', '/api/v1/audit?action=DROP TABLE')).status).toBe(400);
  });

  it('exports a time range as JSON Lines in chain order and records the export', async () => {
    const from = new Date(Date.now() - 60_000).toISOString();
    const response = await t.app.inject({
      method: 'GET',
      url: `/api/v1/audit/export?from=${from}`,
      headers: { authorization: `Bearer ${t.adminToken}` },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('application/x-ndjson');
    const lines = response.body
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const ids = lines.map((line) => BigInt(line.id));
    expect(ids).toEqual([...ids].sort((a, b) => (a < b ? -1 : 1)));
    expect(lines.at(-1).action).toBe('audit.export');
    for (let i = 1; i < lines.length; i++) if (ids[i] === ids[i - 1]! + 1n) expect(lines[i].prevHash).toBe(lines[i - 1].hash);
  });
});

describe('secrets', () => {
  it('never stores a token, key or password, whatever path it comes through', async () => {
    const member = await t.createUser('member');
    const created = await t.request(member.token, 'POST', '/api/v1/tokens', { name: 'laptop' });
    const secrets = [
      member.token,
      created.body.token,
      'sk-ant-api03-SECRETSECRETSECRET0123',
      'sk-proj-SECRETSECRETSECRET4567',
      'hunter2-password-value',
    ];
    await t.request(created.body.token, 'GET', '/api/v1/me');
    await t.request(`${created.body.token}x`, 'GET', '/api/v1/me');
    await t.request(t.adminToken, 'PATCH', `/api/v1/users/${member.id}`, { displayName: `key ${secrets[2]} and ${secrets[3]}` });
    await t.request(t.adminToken, 'POST', '/api/v1/users', { email: 'leaky@example.com', displayName: `token ${member.token}` });
    await t.db.sql.begin((tx) =>
      t.app.audit.record(tx, SYSTEM, {
        action: 'team.create',
        payload: { password: secrets[4], nested: { apiKey: secrets[3], note: `Bearer ${secrets[0]}` } },
      }),
    );
    const table = dump(await t.db.sql`select * from audit_events`);
    for (const secret of secrets) expect(table).not.toContain(secret);
    expect(table).toContain('[redacted]');
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('keeps only a hash and length of prompts when configured', async () => {
    const hashed = await createTestApp({ SWITCHBOARD_AUDIT_PROMPTS: 'hash' });
    try {
      const payload = hashed.app.audit.promptPayload('refactor the billing module');
      expect(payload).toEqual({ promptSha256: expect.stringMatching(/^[0-9a-f]{64}$/), length: 27 });
      expect(JSON.stringify(payload)).not.toContain('billing');
      expect(t.app.audit.promptPayload('refactor the billing module')).toEqual({ prompt: 'refactor the billing module', length: 27 });
    } finally {
      await hashed.close();
    }
  });
});
