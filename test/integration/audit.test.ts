import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM } from '../../control-plane/src/audit/actions.js';
import { anchorKey, createAnchorStore } from '../../control-plane/src/audit/anchor.js';
import { createAuditIntegrity } from '../../control-plane/src/audit/integrity-service.js';
import { insertUser } from '../../control-plane/src/users/user-repository.js';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { quietLogger } from '../fixtures/database.js';
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

const DAY_MS = 86_400_000;
const MASTER_KEY = 'ab'.repeat(32);

/** Deletes rows behind the triggers and makes head and retention point agree, as someone with SQL access could. */
async function deleteThroughSql(app: TestApp, throughId: bigint | 'all') {
  await app.db.sql.begin(async (tx) => {
    await tx`set local session_replication_role = replica`;
    if (throughId === 'all') {
      await tx`delete from audit_events`;
      await tx`update audit_head set last_id = 0, last_hash = ${Buffer.alloc(32)}`;
      await tx`update audit_anchor set through_id = 0, hash = ${Buffer.alloc(32)}`;
      return;
    }
    const [last] = await tx<{ hash: Buffer }[]>`select hash from audit_events where id = ${throughId}`;
    await tx`delete from audit_events where id <= ${throughId}`;
    await tx`update audit_anchor set through_id = ${throughId}, hash = ${last!.hash}`;
  });
}

/** The integrity rules of `app`, with a clock `days` ahead: how a test gets rows old enough to retain. */
function integrityLater(app: TestApp, days: number) {
  return createAuditIntegrity({
    sql: app.db.sql,
    log: quietLogger(),
    anchors: createAnchorStore({ file: path.join(app.config.dataDir, 'audit-anchor.json'), key: anchorKey(app.config.masterKey!) }),
    minRetentionDays: 30,
    clock: () => new Date(Date.now() + days * DAY_MS),
  });
}

describe('retention', () => {
  it('refuses a "before" in the future or younger than the minimum age, and removes nothing', async () => {
    const young = await createTestApp();
    try {
      for (let i = 0; i < 3; i++) await young.createUser('member');
      const before = await young.db.sql<{ n: number }[]>`select count(*)::int as n from audit_events`;
      for (const offset of [DAY_MS, 0, -29 * DAY_MS]) {
        const refused = await young.request(young.adminToken, 'POST', '/api/v1/audit/retention', {
          before: new Date(Date.now() + offset).toISOString(),
        });
        expect(refused.status).toBe(400);
        expect(refused.body.error.code).toBe('BAD_REQUEST');
        expect(refused.body.error.message).toMatch(/at least 30 days \(SWITCHBOARD_AUDIT_MIN_RETENTION_DAYS\)/);
      }
      const after = await young.db.sql<{ n: number; min: bigint }[]>`select count(*)::int as n, min(id) as min from audit_events`;
      expect(after[0]!.min).toBe(1n);
      // Three refusals, each recorded under the route's action.
      expect(after[0]!.n).toBe(before[0]!.n + 3);
      const old = await young.request(young.adminToken, 'POST', '/api/v1/audit/retention', {
        before: new Date(Date.now() - 31 * DAY_MS).toISOString(),
      });
      expect(old.body).toEqual({ deleted: 0, throughId: null });
      expect((await young.request(young.adminToken, 'GET', '/api/v1/audit/verify')).body).toMatchObject({ ok: true });
    } finally {
      await young.close();
    }
  });

  it('takes the minimum age from SWITCHBOARD_AUDIT_MIN_RETENTION_DAYS', async () => {
    const week = await createTestApp({ SWITCHBOARD_AUDIT_MIN_RETENTION_DAYS: '7' });
    try {
      const refused = await week.request(week.adminToken, 'POST', '/api/v1/audit/retention', {
        before: new Date(Date.now() - 6 * DAY_MS).toISOString(),
      });
      expect(refused.body.error).toMatchObject({ code: 'BAD_REQUEST', details: { minRetentionDays: 7 } });
      const allowed = await week.request(week.adminToken, 'POST', '/api/v1/audit/retention', {
        before: new Date(Date.now() - 8 * DAY_MS).toISOString(),
      });
      expect(allowed.status).toBe(200);
    } finally {
      await week.close();
    }
  });

  it('removes a whole prefix of old rows, records a sealed checkpoint, and still verifies', async () => {
    const kept = await createTestApp({ SWITCHBOARD_MASTER_KEY: MASTER_KEY });
    try {
      for (let i = 0; i < 3; i++) await kept.createUser('member');
      expect((await kept.request(kept.adminToken, 'GET', '/api/v1/audit/verify')).body).toMatchObject({ ok: true });
      await new Promise((resolve) => setTimeout(resolve, 20));
      const cut = new Date();
      await new Promise((resolve) => setTimeout(resolve, 20));
      await kept.createUser('member');
      const [head] = await kept.db.sql<{ last_id: bigint }[]>`select last_id from audit_head`;
      const [firstNew] = await kept.db.sql<{ id: bigint }[]>`select min(id) as id from audit_events where at >= ${cut}`;
      const result = await integrityLater(kept, 31).retain({ type: 'system' }, cut);
      expect(result).toEqual({ deleted: Number(firstNew!.id - 1n), throughId: firstNew!.id - 1n });
      const rows = await kept.db.sql<
        { id: bigint; action: string; payload: any }[]
      >`select id, action, payload from audit_events order by id`;
      expect(rows[0]!.id).toBe(firstNew!.id);
      expect(rows.at(-1)).toMatchObject({ id: head!.last_id + 1n, action: 'audit.retention' });
      expect(rows.at(-1)!.payload.seal).toMatch(/^[0-9a-f]{64}$/);
      expect((await kept.request(kept.adminToken, 'GET', '/api/v1/audit/verify')).body).toEqual({ ok: true, checked: rows.length });
      await expect(kept.db.sql`delete from audit_events where id = ${firstNew!.id}`).rejects.toThrow(/append-only/);
      // A later removal behind the rules is still caught: the retention point moved without a seal.
      await deleteThroughSql(kept, firstNew!.id + 1n);
      const verify = (await kept.request(kept.adminToken, 'GET', '/api/v1/audit/verify')).body;
      expect(verify).toMatchObject({ ok: false });
    } finally {
      await kept.close();
    }
  });

  it('refuses to remove anything from a chain that does not verify', async () => {
    const broken = await createTestApp({ SWITCHBOARD_MASTER_KEY: MASTER_KEY });
    try {
      await broken.createUser('member');
      await broken.db.sql.begin(async (tx) => {
        await tx`set local session_replication_role = replica`;
        await tx`update audit_events set payload = jsonb_set(payload, '{role}', '"admin"') where id = 2`;
      });
      await expect(integrityLater(broken, 31).retain({ type: 'system' }, new Date())).rejects.toMatchObject({ code: 'CONFLICT' });
      const [row] = await broken.db.sql<{ n: number }[]>`select count(*)::int as n from audit_events where id <= 2`;
      expect(row!.n).toBe(2);
    } finally {
      await broken.close();
    }
  });
});

describe('the signed anchor outside the database', () => {
  it('is exported at start to a 0600 file in the data dir, and moves forward with verify', async () => {
    const anchored = await createTestApp();
    try {
      const file = path.join(anchored.config.dataDir, 'audit-anchor.json');
      await expect
        .poll(() =>
          stat(file).then(
            (info) => info.mode & 0o777,
            () => null,
          ),
        )
        .toBe(0o600);
      await anchored.createUser('member');
      expect((await anchored.request(anchored.adminToken, 'GET', '/api/v1/audit/verify')).body).toMatchObject({ ok: true });
      const [head] = await anchored.db.sql<{ last_id: bigint }[]>`select last_id from audit_head`;
      const saved = JSON.parse(await readFile(file, 'utf8'));
      expect(saved).toMatchObject({ version: 1, throughId: head!.last_id.toString(), mac: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(JSON.stringify(saved)).not.toContain(anchored.adminToken);
    } finally {
      await anchored.close();
    }
  });

  it('catches a trail wiped by direct SQL, with head and retention point reset to look empty', async () => {
    const wiped = await createTestApp();
    try {
      for (let i = 0; i < 3; i++) await wiped.createUser('member');
      const [head] = await wiped.db.sql<{ last_id: bigint }[]>`select last_id from audit_head`;
      expect((await wiped.request(wiped.adminToken, 'GET', '/api/v1/audit/verify')).body).toEqual({
        ok: true,
        checked: Number(head!.last_id),
      });
      await deleteThroughSql(wiped, 'all');
      const result = (await wiped.request(wiped.adminToken, 'GET', '/api/v1/audit/verify')).body;
      expect(result).toMatchObject({ ok: false, firstBadId: '1' });
      expect(result.reason).toMatch(/anchor/);
    } finally {
      await wiped.close();
    }
  });

  it('catches a retention done by SQL, outside the rules', async () => {
    const bypassed = await createTestApp();
    try {
      for (let i = 0; i < 3; i++) await bypassed.createUser('member');
      expect((await bypassed.request(bypassed.adminToken, 'GET', '/api/v1/audit/verify')).body).toMatchObject({ ok: true });
      await bypassed.db.sql.begin(async (tx) => {
        await tx`select set_config('switchboard.audit_retention', 'on', true)`;
        const [last] = await tx<{ hash: Buffer }[]>`select hash from audit_events where id = 4`;
        await tx`delete from audit_events where id <= 4`;
        await tx`update audit_anchor set through_id = 4, hash = ${last!.hash}`;
      });
      const result = (await bypassed.request(bypassed.adminToken, 'GET', '/api/v1/audit/verify')).body;
      expect(result).toMatchObject({ ok: false, firstBadId: '1' });
      expect(result.reason).toMatch(/without a sealed audit.retention record/);
    } finally {
      await bypassed.close();
    }
  });

  it('catches an anchor file that was edited, and a trail rewritten consistently up to the anchor', async () => {
    const rewritten = await createTestApp();
    try {
      for (let i = 0; i < 2; i++) await rewritten.createUser('member');
      expect((await rewritten.request(rewritten.adminToken, 'GET', '/api/v1/audit/verify')).body).toMatchObject({ ok: true });
      const file = path.join(rewritten.config.dataDir, 'audit-anchor.json');
      const saved = await readFile(file, 'utf8');
      await writeFile(file, saved.replace(/"throughId": "\d+"/, '"throughId": "1"'));
      expect((await rewritten.request(rewritten.adminToken, 'GET', '/api/v1/audit/verify')).body).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/altered/),
      });
      await writeFile(file, saved);
      // Drop the last row and re-point the head at the row before: the chain itself is consistent again.
      await rewritten.db.sql.begin(async (tx) => {
        await tx`set local session_replication_role = replica`;
        const [head] = await tx<{ last_id: bigint }[]>`select last_id from audit_head`;
        const [prev] = await tx<{ hash: Buffer }[]>`select hash from audit_events where id = ${head!.last_id - 1n}`;
        await tx`delete from audit_events where id = ${head!.last_id}`;
        await tx`update audit_head set last_id = ${head!.last_id - 1n}, last_hash = ${prev!.hash}`;
      });
      expect(await rewritten.app.audit.verify()).toMatchObject({ ok: true });
      expect((await rewritten.request(rewritten.adminToken, 'GET', '/api/v1/audit/verify')).body).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/anchor/),
      });
    } finally {
      await rewritten.close();
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
