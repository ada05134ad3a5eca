import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useAgentHarness } from '../fixtures/agents.js';
import { makeTempDir } from '../fixtures/temp.js';
import { ofSession, textOf, turn } from '../fixtures/turns.js';

const suite = useAgentHarness();
const client = (token: string) => suite.client(token);

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the supervised harness', () => {
  it('restarts after kill -9 mid-turn; the session stays usable and its stored events intact', async () => {
    const user = await suite.h.createUser('member');
    const rpc = await client(user.token);
    const session = await rpc.request('session/create', { title: 'Survivor' });
    await rpc.request('session/subscribe', { sessionId: session.id });
    suite.h.fake.script({ text: 'before the crash' });
    await turn(rpc, session.id, 'first');
    const firstTurn = await suite.h.request(user.token, 'GET', `/api/v1/sessions/${session.id}/events`);

    suite.h.fake.script({ text: 'slow '.repeat(400), chunks: 400, chunkDelayMs: 50 });
    await rpc.request('session/prompt', { sessionId: session.id, text: 'second' });
    await rpc.waitFor((event) => event.sessionId === session.id && event.event.type === 'text.delta' && event.event.delta.includes('slow'));
    const pid = suite.h.app.harness?.health().pid;
    expect(pid).toBeGreaterThan(0);
    process.kill(pid as number, 'SIGKILL');

    const interrupted = await rpc.waitFor(
      (event) => event.sessionId === session.id && event.event.type === 'error' && event.event.code === 'HARNESS_UNAVAILABLE',
      30_000,
    );
    expect(interrupted.event).toMatchObject({ message: expect.stringMatching(/restarted/) });
    await waitFor(() => suite.h.app.harness?.health().state === 'running' && suite.h.app.harness.health().pid !== pid);
    expect(suite.h.app.harness?.health().restarts).toBe(1);

    const stored = await suite.h.request(user.token, 'GET', `/api/v1/sessions/${session.id}/events`);
    expect(stored.body.items.slice(0, firstTurn.body.items.length)).toEqual(firstTurn.body.items);
    const seqs = stored.body.items.map((event: any) => event.seq);
    expect(seqs).toEqual(seqs.map((_: unknown, index: number) => index + 1));
    expect((await suite.h.request(user.token, 'GET', `/api/v1/sessions/${session.id}`)).body.status).toBe('idle');

    suite.h.fake.script({ text: 'after the crash' });
    const after = await turn(rpc, session.id, 'third');
    expect(textOf(after, session.id)).toBe('after the crash');
    // OpenCode kept the conversation: the new call carries the earlier turn.
    const history = JSON.stringify(suite.h.fake.requests.at(-1)?.body.messages ?? []);
    expect(history).toContain('before the crash');
  }, 120_000);

  it('recycles the process without losing sessions', async () => {
    const user = await suite.h.createUser('member');
    const rpc = await client(user.token);
    const session = await rpc.request('session/create', { title: 'Recycled' });
    await rpc.request('session/subscribe', { sessionId: session.id });
    suite.h.fake.script({ text: 'remember the number seven' });
    await turn(rpc, session.id, 'remember');
    const before = suite.h.app.harness?.health().pid;
    await (suite.h.app.harness as unknown as { recycle(reason: string): Promise<void> }).recycle('test');
    expect(suite.h.app.harness?.health().pid).not.toBe(before);
    suite.h.fake.script({ text: 'seven' });
    const after = await turn(rpc, session.id, 'what was it?');
    expect(textOf(after, session.id)).toBe('seven');
    expect(JSON.stringify(suite.h.fake.requests.at(-1)?.body.messages ?? [])).toContain('remember the number seven');
  }, 120_000);

  it('made no install from the package registry: the plugin package was pre-installed offline', () => {
    const config = path.join(suite.h.config.dataDir, 'harness', 'config', 'opencode');
    expect(existsSync(path.join(config, 'node_modules', '@opencode-ai', 'plugin', 'package.json'))).toBe(true);
    expect(existsSync(path.join(config, 'package-lock.json'))).toBe(true);
    // OpenCode's own installer would have used its private HOME's npm cache.
    expect(existsSync(path.join(suite.h.config.dataDir, 'harness', 'home', '.npm'))).toBe(false);
  });
});

describe('workspaces', () => {
  it('seeds a session from an upload and from a git repository, and refuses unsafe sources', async () => {
    const user = await suite.h.createUser('member');
    const rpc = await client(user.token);
    const files = [
      { path: 'src/app.ts', content: Buffer.from('export const answer = 42;\n').toString('base64') },
      { path: 'run.sh', content: Buffer.from('#!/bin/sh\necho hi\n').toString('base64'), executable: true },
      { path: 'opencode.json', content: Buffer.from('{"provider":{}}').toString('base64') },
    ];
    const upload = await suite.h.request(user.token, 'POST', '/api/v1/uploads', { files });
    expect(upload.status).toBe(201);
    expect(upload.body).toMatchObject({ files: 3 });
    const seeded = await rpc.request('session/create', { title: 'From upload', workspace: { kind: 'upload', uploadId: upload.body.id } });
    const [row] = (await suite.h.db.sql`select workspace_dir from sessions where id = ${seeded.id}`) as any;
    expect(readFileSync(path.join(row.workspace_dir, 'src/app.ts'), 'utf8')).toBe('export const answer = 42;\n');
    expect(JSON.parse(readFileSync(path.join(row.workspace_dir, 'opencode.json'), 'utf8')).provider.switchboard.options.baseURL).toBe(
      `${suite.h.baseUrl}/gateway/v1`,
    );
    await expect(
      rpc.request('session/create', { title: 'Again', workspace: { kind: 'upload', uploadId: upload.body.id } }),
    ).rejects.toMatchObject({ data: { code: 'NOT_FOUND' } });

    for (const bad of ['../escape.txt', '/etc/passwd', 'a/./b', 'a//b']) {
      const refused = await suite.h.request(user.token, 'POST', '/api/v1/uploads', { files: [{ path: bad, content: 'eA==' }] });
      expect(refused.status).toBe(400);
    }
    const dup = await suite.h.request(user.token, 'POST', '/api/v1/uploads', {
      files: [
        { path: 'a', content: 'eA==' },
        { path: 'a', content: 'eA==' },
      ],
    });
    expect(dup.status).toBe(400);

    const repo = await makeTempDir('repo');
    mkdirSync(path.join(repo, 'lib'));
    writeFileSync(path.join(repo, 'lib', 'index.js'), 'module.exports = 1;\n');
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.email=t@e.st', '-c', 'user.name=t', ...args]);
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-q', '-m', 'init');
    await expect(rpc.request('session/create', { title: 'Local', workspace: { kind: 'git', url: repo } })).rejects.toMatchObject({
      data: { code: 'FORBIDDEN' },
    });
    const adminRpc = await client(suite.h.adminToken);
    const cloned = await adminRpc.request('session/create', { title: 'Cloned', workspace: { kind: 'git', url: repo } });
    const [clonedRow] = (await suite.h.db.sql`select workspace_dir from sessions where id = ${cloned.id}`) as any;
    expect(readFileSync(path.join(clonedRow.workspace_dir, 'lib', 'index.js'), 'utf8')).toBe('module.exports = 1;\n');
    await expect(
      rpc.request('session/create', { title: 'Bad', workspace: { kind: 'git', url: 'ext::sh -c touch /tmp/pwned' } }),
    ).rejects.toMatchObject({ data: { code: 'FORBIDDEN' } });
    expect(existsSync('/tmp/pwned')).toBe(false);
  }, 60_000);

  it('mirrors sessions over REST: list, transcript and abort', async () => {
    const user = await suite.h.createUser('member');
    const rpc = await client(user.token);
    const session = await rpc.request('session/create', { title: 'Mirror' });
    suite.h.fake.script({ text: 'mirrored' });
    await rpc.request('session/subscribe', { sessionId: session.id });
    await turn(rpc, session.id, 'hello');
    const listed = await suite.h.request(suite.h.adminToken, 'GET', `/api/v1/sessions?userId=${user.id}`);
    expect(listed.body.items.map((item: any) => item.id)).toEqual([session.id]);
    const page = await suite.h.request(suite.h.adminToken, 'GET', `/api/v1/sessions/${session.id}/events?sinceSeq=0&limit=2`);
    expect(page.body.items.map((event: any) => event.seq)).toEqual([1, 2]);
    expect(page.body.more).toBe(true);
    const aborted = await suite.h.request(suite.h.adminToken, 'POST', `/api/v1/sessions/${session.id}/abort`);
    expect(aborted.body).toEqual({ aborted: false });
    expect(rpc.events.filter(ofSession(session.id)).length).toBe(page.body.lastSeq);
  }, 60_000);
});
