import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../fixtures/app.js';

/**
 * After a restart a control plane ends the turns and closes the asks that its own (dead) agent
 * runtime held, and nothing of another control plane sharing the database.
 */
describe('reconciling after a restart', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());

  async function busySession(userId: string, workspaceDir: string) {
    const id = randomUUID();
    await t.db.sql`
      insert into sessions (id, user_id, title, agent, model, workspace_dir, status, last_seq)
      values (${id}, ${userId}, 'Busy', 'build', 'sb-coder', ${workspaceDir}, 'busy', 0)`;
    await t.db.sql`
      insert into approvals (id, session_id, kind, tool, title, expires_at)
      values (${`per_${id}`}, ${id}, 'permission', 'bash', 'bash: ls', now() + interval '1 hour')`;
    return id;
  }

  it('interrupts only its own running turns and closes only its own pending asks', async () => {
    const user = await t.createUser('member');
    const mine = await busySession(user.id, path.join(path.resolve(t.config.dataDir), 'workspaces', randomUUID()));
    const theirs = await busySession(user.id, path.join('/srv/other-control-plane/workspaces', randomUUID()));
    // A data dir whose name merely starts like ours is someone else's too.
    const lookalike = await busySession(user.id, `${path.resolve(t.config.dataDir)}-2/workspaces/${randomUUID()}`);

    await t.app.harnessBridge.reconcile();

    const sessions = await t.db.sql<{ id: string; status: string }[]>`
      select id, status from sessions where id in (${mine}, ${theirs}, ${lookalike})`;
    const statusOf = (id: string) => sessions.find((row) => row.id === id)?.status;
    expect(statusOf(mine)).toBe('idle');
    expect(statusOf(theirs)).toBe('busy');
    expect(statusOf(lookalike)).toBe('busy');

    const approvals = await t.db.sql<{ session_id: string; status: string; decided_by: string | null }[]>`
      select session_id, status, decided_by from approvals where session_id in (${mine}, ${theirs}, ${lookalike})`;
    const approvalOf = (id: string) => approvals.find((row) => row.session_id === id);
    expect(approvalOf(mine)).toMatchObject({ status: 'expired', decided_by: 'system' });
    expect(approvalOf(theirs)).toMatchObject({ status: 'pending', decided_by: null });
    expect(approvalOf(lookalike)).toMatchObject({ status: 'pending' });

    const events = await t.db.sql<{ event: { type: string; code?: string; detail?: string } }[]>`
      select event from session_events where session_id = ${mine} order by seq`;
    expect(events.map((row) => row.event)).toEqual([
      expect.objectContaining({ type: 'permission.replied', reply: 'reject', by: 'system' }),
      expect.objectContaining({ type: 'error', code: 'HARNESS_UNAVAILABLE' }),
      expect.objectContaining({ type: 'status', status: 'idle', detail: 'interrupted' }),
    ]);
    expect(await t.db.sql`select 1 from session_events where session_id in (${theirs}, ${lookalike})`).toHaveLength(0);
    // Closing an ask is a decision like any other: it is in the audit trail, by the system.
    const audit = await t.db.sql<{ actor_type: string; outcome: string; payload: { decision: string; by: string } }[]>`
      select actor_type, outcome, payload from audit_events where action = 'tool.approval' and target_id = ${mine}`;
    expect(audit).toEqual([
      expect.objectContaining({
        actor_type: 'system',
        outcome: 'denied',
        payload: expect.objectContaining({ decision: 'expired', by: 'system' }),
      }),
    ]);
  });
});
