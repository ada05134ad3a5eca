import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchorKey, createAnchorStore } from '../../control-plane/src/audit/anchor.js';
import { createAuditIntegrity } from '../../control-plane/src/audit/integrity-service.js';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { quietLogger } from '../fixtures/database.js';

/**
 * Retention and the signed anchor: the trail can shrink only by the rules (old rows, a sealed
 * checkpoint), and a trail shortened or rewritten any other way is caught by verify.
 */
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
