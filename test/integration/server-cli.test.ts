import { readdirSync, readFileSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, exited, runCli, type StartedCli, startCli } from '../fixtures/cli.js';
import { makeTempDir } from '../fixtures/temp.js';

const started: StartedCli[] = [];
let dataDir = '';
afterAll(async () => {
  for (const server of started) if (server.child.exitCode === null) server.child.kill('SIGKILL');
  if (!dataDir) return;
  // A failed run can leave the server's PostgreSQL behind; never leak it into later tests.
  for (const pid of postgresOn(dataDir)) process.kill(pid, 'SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
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

const api = (url: string, token: string | null, route: string, init: RequestInit = {}) =>
  fetch(`${url}/api/v1${route}`, {
    ...init,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}) },
  });

describe('switchboard start and admin, as a newcomer runs them', () => {
  it('starts on embedded PostgreSQL, survives kill -9, and shuts down cleanly', async () => {
    dataDir = await makeTempDir('cli');
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

    first.child.kill('SIGKILL');
    await exited(first.child);
    expect(postgresOn(dataDir).length).toBeGreaterThan(0);

    const second = await startCli(env);
    started.push(second);
    expect(second.output()).not.toMatch(/Admin token:/);
    expect(second.output()).toMatch(/orphaned/);
    const me = await api(second.url, memberToken, '/me');
    expect(me.status).toBe(200);
    expect(((await me.json()) as any).user.email).toBe('dev@example.com');

    second.child.kill('SIGTERM');
    expect(await exited(second.child)).toBe(0);
    expect(postgresOn(dataDir)).toEqual([]);
  }, 180_000);

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
