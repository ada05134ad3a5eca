import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { agentName, defineAgent } from '../fixtures/agent-builders.js';
import { useAgentHarness } from '../fixtures/agents.js';
import { turn } from '../fixtures/turns.js';

const suite = useAgentHarness();
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('what the agent changed in a session workspace', () => {
  it('lists added, modified and deleted files, whether a tool or bash wrote them, and serves the agent’s version', async () => {
    const user = await suite.h.createUser('member');
    const upload = await suite.h.request(user.token, 'POST', '/api/v1/uploads', {
      files: [
        { path: 'src/keep.ts', content: b64('export const keep = 1;\n') },
        { path: 'src/edit.ts', content: b64('export const value = 1;\n') },
        { path: 'old.txt', content: b64('remove me\n') },
      ],
    });
    expect(upload.status).toBe(201);
    const rpc = await suite.client(user.token);
    const agent = await defineAgent(suite.h, {
      name: agentName('free'),
      systemPrompt: 'You edit files.',
      toolPolicy: [{ tool: '*', action: 'allow' }],
    });
    const session = await rpc.request('session/create', {
      title: 'Changes',
      workspace: { kind: 'upload', uploadId: upload.body.id },
      agent: agent.name,
    });
    await rpc.request('session/subscribe', { sessionId: session.id });
    expect(await rpc.request('session/changes', { sessionId: session.id })).toEqual({ files: [], truncated: false });

    suite.h.fake.script(
      { toolCalls: [{ name: 'write', arguments: { filePath: 'src/new.ts', content: 'export const added = true;\n' } }] },
      {
        toolCalls: [
          {
            name: 'bash',
            arguments: { command: "rm old.txt && printf 'export const value = 2;\\n' > src/edit.ts", description: 'edit by shell' },
          },
        ],
      },
      { text: 'Done.' },
    );
    await turn(rpc, session.id, 'change things');

    const changes = await rpc.request('session/changes', { sessionId: session.id });
    expect(changes).toEqual({
      truncated: false,
      files: [
        { path: 'old.txt', status: 'deleted', baseSha256: sha('remove me\n'), sha256: null, bytes: 0 },
        {
          path: 'src/edit.ts',
          status: 'modified',
          baseSha256: sha('export const value = 1;\n'),
          sha256: sha('export const value = 2;\n'),
          bytes: 24,
        },
        { path: 'src/new.ts', status: 'added', baseSha256: null, sha256: sha('export const added = true;\n'), bytes: 27 },
      ],
    });

    const edited = await rpc.request('session/file', { sessionId: session.id, path: 'src/edit.ts' });
    expect(Buffer.from(edited.content, 'base64').toString()).toBe('export const value = 2;\n');
    expect(edited.sha256).toBe(sha('export const value = 2;\n'));
    expect(await rpc.request('session/file', { sessionId: session.id, path: 'old.txt' })).toEqual({
      path: 'old.txt',
      content: null,
      sha256: null,
    });
    // The session's own config (it holds the session key) is neither listed nor served.
    await expect(rpc.request('session/file', { sessionId: session.id, path: '../../secrets' })).rejects.toMatchObject({
      data: { code: 'BAD_REQUEST' },
    });
    expect(changes.files.map((file: { path: string }) => file.path)).not.toContain('opencode.json');

    const stranger = await suite.h.createUser('member');
    const other = await suite.client(stranger.token);
    await expect(other.request('session/changes', { sessionId: session.id })).rejects.toMatchObject({ data: { code: 'NOT_FOUND' } });
    await expect(other.request('session/file', { sessionId: session.id, path: 'src/edit.ts' })).rejects.toMatchObject({
      data: { code: 'NOT_FOUND' },
    });
  }, 90_000);
});

describe('live budgets on the connection', () => {
  it('pushes fresh figures after each settled call and a soft alert when the threshold is crossed', async () => {
    const user = await suite.h.createUser('member');
    await suite.h.request(suite.h.adminToken, 'PUT', `/api/v1/users/${user.id}/budgets/month`, { limitMicros: 1_000_000, softAlertPct: 1 });
    const rpc = await suite.client(user.token);
    const bystander = await suite.client((await suite.h.createUser('member')).token);
    const session = await rpc.request('session/create', { title: 'Spend' });
    await rpc.request('session/subscribe', { sessionId: session.id });
    suite.h.fake.script({ text: 'Expensive answer', usage: { input: 5000, output: 10 } });
    await turn(rpc, session.id, 'spend');

    await expect
      .poll(() => rpc.budgetNotices.filter((notice) => notice.method === 'budget/updated').length, { timeout: 5000 })
      .toBeGreaterThan(0);
    const update = rpc.budgetNotices.filter((notice) => notice.method === 'budget/updated').at(-1)!;
    expect(update.params.budgets).toEqual([
      expect.objectContaining({ scope: 'user', period: 'month', limitMicros: 1_000_000, reservedMicros: 0 }),
    ]);
    expect(update.params.budgets[0].spentMicros).toBe(5000 * 3 + 10 * 15);
    const alert = rpc.budgetNotices.find((notice) => notice.method === 'budget/alert');
    expect(alert?.params).toMatchObject({ scope: 'user', period: 'month', spentMicros: 15_150, limitMicros: 1_000_000 });
    expect(rpc.budgetNotices.filter((notice) => notice.method === 'budget/alert')).toHaveLength(1);
    expect(bystander.budgetNotices).toEqual([]);

    await suite.h.request(suite.h.adminToken, 'PUT', `/api/v1/users/${user.id}/budgets/month`, { limitMicros: 2_000_000 });
    await expect.poll(() => rpc.budgetNotices.at(-1)?.params.budgets?.[0]?.limitMicros, { timeout: 5000 }).toBe(2_000_000);
  }, 90_000);
});
