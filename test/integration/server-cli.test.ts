import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ProgressType } from 'vscode-jsonrpc/node';
import { cleanEnv, exited, runCli, type StartedCli, startCli } from '../fixtures/cli.js';
import { type FakeProvider, startFakeProvider } from '../fixtures/fake-provider/index.js';
import { TEST_PRICES } from '../fixtures/gateway.js';
import { connectRpc } from '../fixtures/rpc-client.js';
import { makeTempDir } from '../fixtures/temp.js';
import { textOf } from '../fixtures/turns.js';

const started: StartedCli[] = [];
const dataDirs: string[] = [];
let fake: FakeProvider | undefined;
afterAll(async () => {
  for (const server of started) if (server.child.exitCode === null) server.child.kill('SIGKILL');
  await fake?.close();
  for (const dir of dataDirs) {
    // A failed run can leave the server's PostgreSQL behind; never leak it into later tests.
    for (const pid of postgresOn(dir)) process.kill(pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});

/** Processes whose command line mentions the data dir: the control plane's PostgreSQL. */
function postgresOn(dir: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        const state = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return cmdline.includes('postgres') && cmdline.includes(dir) && !/\) [ZX] /.test(state);
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function until(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A live process (a zombie waiting for its reaper does not count). */
function alive(pid: number): boolean {
  try {
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const api = (url: string, token: string | null, route: string, init: RequestInit = {}) =>
  fetch(`${url}/api/v1${route}`, {
    ...init,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}) },
  });

describe('switchboard start and admin, as a newcomer runs them', () => {
  it('starts on embedded PostgreSQL, survives kill -9, and shuts down cleanly', async () => {
    const dataDir = await makeTempDir('cli');
    dataDirs.push(dataDir);
    const env = cleanEnv({ SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_PORT: '0' });

    const first = await startCli(env);
    started.push(first);
    const printed = /Admin token: (sb_\S+)/.exec(first.output())?.[1];
    expect(printed).toBeDefined();
    const tokenFile = path.join(dataDir, 'admin-token');
    expect((await readFile(tokenFile, 'utf8')).trim()).toBe(printed);
    expect((await stat(tokenFile)).mode & 0o777).toBe(0o600);
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${first.url}/healthz`)).json()).toMatchObject({ status: 'ok' });

    const admin = { ...env, SWITCHBOARD_URL: first.url };
    const added = await runCli(['admin', 'user', 'add', '--email', 'Dev@Example.com', '--name', 'Dev', '--role', 'member'], admin);
    expect(added).toMatchObject({ code: 0 });
    expect(added.stdout).toMatch(/Created member dev@example.com/);
    const token = await runCli(['admin', 'token', 'create', '--user', 'dev@example.com', '--name', 'laptop'], admin);
    const memberToken = /Token: (sb_\S+)/.exec(token.stdout)?.[1] ?? '';
    expect(memberToken).toMatch(/^sb_/);
    const list = await runCli(['admin', 'user', 'list'], admin);
    expect(list.stdout).toMatch(/admin\s+admin@localhost/);
    expect(list.stdout).toMatch(/member\s+dev@example.com/);
    const duplicate = await runCli(['admin', 'user', 'add', '--email', 'dev@example.com'], admin);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toMatch(/CONFLICT: A user with the email dev@example.com already exists/);

    expect(
      (await api(first.url, memberToken, '/users', { method: 'POST', body: JSON.stringify({ email: 'x@y.co', displayName: 'X' }) })).status,
    ).toBe(403);
    expect((await api(first.url, null, '/me')).status).toBe(401);
    const bad = await api(first.url, printed ?? '', '/users', {
      method: 'POST',
      body: JSON.stringify({ email: 'nope', displayName: 'X' }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.details.issues[0].path).toBe('email');
    expect((await api(first.url, printed ?? '', '/users/00000000-0000-4000-8000-000000000000')).status).toBe(404);

    await until(async () => (await fetch(`${first.url}/readyz`)).status === 200);
    const harnessPid = Number((await readFile(path.join(dataDir, 'harness', 'opencode.pid'), 'utf8')).trim());
    expect(existsSync(`/proc/${harnessPid}`)).toBe(true);
    first.child.kill('SIGKILL');
    await exited(first.child);
    expect(postgresOn(dataDir).length).toBeGreaterThan(0);

    const second = await startCli(env);
    started.push(second);
    // Its agent runtime replaces the one the killed process left behind, instead of running beside it.
    await until(async () => (await fetch(`${second.url}/readyz`)).status === 200);
    expect(alive(harnessPid)).toBe(false);
    expect(second.output()).not.toMatch(/Admin token:/);
    expect(second.output()).toMatch(/orphaned/);
    const me = await api(second.url, memberToken, '/me');
    expect(me.status).toBe(200);
    expect(((await me.json()) as any).user.email).toBe('dev@example.com');

    second.child.kill('SIGTERM');
    expect(await exited(second.child)).toBe(0);
    expect(postgresOn(dataDir)).toEqual([]);
  }, 180_000);

  it('gives a session asked for in the first second after start, once its agent runtime is up; /readyz waits for the runtime', async () => {
    fake = await startFakeProvider();
    const dataDir = await makeTempDir('cli-first');
    dataDirs.push(dataDir);
    const server = await startCli(
      cleanEnv({ SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_PORT: '0', SWITCHBOARD_ALLOWED_HOSTS: '127.0.0.1' }),
    );
    started.push(server);
    const listening = Date.now();
    const admin = /Admin token: (sb_\S+)/.exec(server.output())?.[1] ?? '';

    const early = await fetch(`${server.url}/readyz`);
    expect(early.status).toBe(503);
    expect(await early.json()).toMatchObject({ status: 'not_ready', checks: { database: { ok: true }, harness: { ok: false } } });

    const provider = (await (
      await api(server.url, admin, '/providers', {
        method: 'POST',
        body: JSON.stringify({ name: 'fake', kind: 'openai-compatible', baseUrl: `${fake.url}/v1`, apiKey: 'sk-test-first-minute-0001' }),
      })
    ).json()) as { id: string };
    const model = await api(server.url, admin, '/models', {
      method: 'POST',
      body: JSON.stringify({
        name: 'm',
        providerId: provider.id,
        upstreamModel: 'up',
        contextLimit: 100_000,
        outputLimit: 4096,
        prices: TEST_PRICES,
      }),
    });
    expect(model.status).toBe(201);

    const rpc = await connectRpc(server.url, admin);
    const progress: unknown[] = [];
    rpc.connection.onProgress(new ProgressType<unknown>(), 'first-minute', (value) => void progress.push(value));
    const askedAfterMs = Date.now() - listening;
    const session = await rpc.request('session/create', { title: 'First minute', workDoneToken: 'first-minute' });
    expect(askedAfterMs).toBeLessThan(1000);
    expect(session).toMatchObject({ title: 'First minute', status: 'idle' });
    // It waited for the runtime, and said so.
    expect(progress[0]).toMatchObject({ kind: 'begin', message: expect.stringMatching(/Waiting for the agent runtime/) });
    expect(progress.at(-1)).toEqual({ kind: 'end' });

    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { harness: { ok: true, detail: 'running' } } });

    await rpc.request('session/subscribe', { sessionId: session.id });
    fake.script({ text: 'up and running' });
    await rpc.request('session/prompt', { sessionId: session.id, text: 'hello' });
    await rpc.waitFor((event) => event.event.type === 'status' && event.event.status === 'idle' && event.seq > 2, 60_000);
    expect(textOf(rpc.events, session.id)).toBe('up and running');
    await rpc.close();

    server.child.kill('SIGTERM');
    expect(await exited(server.child)).toBe(0);
  }, 120_000);

  it('starts its embedded PostgreSQL again after kill -9, answering 503 UNAVAILABLE meanwhile, and still shuts down cleanly', async () => {
    const dataDir = await makeTempDir('cli-pg');
    dataDirs.push(dataDir);
    const server = await startCli(cleanEnv({ SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_PORT: '0', SWITCHBOARD_HARNESS: 'off' }));
    started.push(server);
    const admin = /Admin token: (sb_\S+)/.exec(server.output())?.[1] ?? '';
    expect((await api(server.url, admin, '/me')).status).toBe(200);
    const pidFile = path.join(dataDir, 'pg', 'data', 'postmaster.pid');
    const postmaster = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
    process.kill(postmaster, 'SIGKILL');

    // The backends notice the dead postmaster within moments; from then until the restart every
    // answer is 503 UNAVAILABLE with what to do, never a 500.
    const seen: number[] = [];
    let refusal: unknown;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const response = await api(server.url, admin, '/me');
      seen.push(response.status);
      if (response.status === 503) refusal ??= ((await response.json()) as any).error;
      else await response.body?.cancel();
      if (response.status === 200 && refusal) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(refusal).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/Try again/) });
    expect(seen.every((status) => status === 200 || status === 503)).toBe(true);
    expect(seen.at(-1)).toBe(200);
    expect(Number((await readFile(pidFile, 'utf8')).split('\n')[0])).not.toBe(postmaster);

    // Killed again, then told to stop at once: no crash, nothing left behind.
    process.kill(Number((await readFile(pidFile, 'utf8')).split('\n')[0]), 'SIGKILL');
    server.child.kill('SIGTERM');
    expect(await exited(server.child)).toBe(0);
    expect(server.output()).not.toMatch(/Unhandled|UnhandledPromiseRejection/);
    expect(postgresOn(dataDir)).toEqual([]);
    expect(existsSync(path.join(dataDir, 'control-plane.pid'))).toBe(false);
  }, 120_000);

  it('fails fast with a readable message on bad configuration', async () => {
    const result = await runCli(
      ['start'],
      cleanEnv({ SWITCHBOARD_PORT: 'seventy', SWITCHBOARD_DATA_DIR: path.join(tmpdir(), 'never-created') }),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('SWITCHBOARD_PORT="seventy"');
  });

  it('explains itself when asked for help or given an unknown command', async () => {
    expect((await runCli(['help'], cleanEnv({}))).stdout).toMatch(/Usage: switchboard/);
    const unknown = await runCli(['launch'], cleanEnv({}));
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/Unknown command "launch"/);
    const unreachable = await runCli(['admin', 'user', 'list', '--url', 'http://127.0.0.1:9', '--token', 'sb_x'], cleanEnv({}));
    expect(unreachable.stderr).toMatch(/Cannot reach the control plane at http:\/\/127.0.0.1:9/);
  });
});
