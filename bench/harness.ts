import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import '@switchboard/control-plane/plugins/services.js';
import { buildApp } from '@switchboard/control-plane/app.js';
import { bootstrapAdmin } from '@switchboard/control-plane/auth/bootstrap.js';
import { loadConfig } from '@switchboard/control-plane/config.js';
import { resolveOpencodeBinary } from '@switchboard/control-plane/harness/binary.js';
import { createInlineHarness } from '@switchboard/control-plane/harness/inline-harness.js';
import { treeRss } from '@switchboard/control-plane/harness/process-memory.js';
import { startFakeProvider } from '../test/fixtures/fake-provider/index.js';
import { connectRpc } from '../test/fixtures/rpc-client.js';
import { type BenchServer, freshDatabase, log, type Row } from './database.js';

const AGENTS = 15;
const STREAMS = 100;
const MiB = 1024 * 1024;

const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))] ?? Number.NaN;
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for a condition, failing the bench (never hanging it) after a minute. */
async function until(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await delay(5);
  }
}

/** An OpenCode config that talks to the fake provider directly: memory is measured without the gateway in the way. */
async function workspace(root: string, name: string, fakeUrl: string): Promise<string> {
  const dir = path.join(root, name);
  await mkdir(dir, { recursive: true });
  const config = {
    provider: {
      bench: {
        npm: '@ai-sdk/openai-compatible',
        options: { baseURL: `${fakeUrl}/v1`, apiKey: 'bench' },
        models: { coder: { name: 'coder', tool_call: true, limit: { context: 100_000, output: 4096 } } },
      },
    },
    model: 'bench/coder',
    small_model: 'bench/coder',
    enabled_providers: ['bench'],
    share: 'disabled',
    autoupdate: false,
  };
  await writeFile(path.join(dir, 'opencode.json'), JSON.stringify(config));
  return dir;
}

async function basicAuthFetch(base: string, password: string, route: string, body?: unknown) {
  const response = await fetch(`${base}${route}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Basic ${Buffer.from(`opencode:${password}`).toString('base64')}`, 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  return text ? JSON.parse(text) : undefined;
}

/** (a) One shared harness running 15 agents' sessions vs 15 dedicated `opencode serve` processes, each after one turn. */
async function memory(fakeUrl: string): Promise<Row[]> {
  const root = await mkdtemp(path.join(tmpdir(), 'switchboard-bench-harness-'));
  try {
    const shared = createInlineHarness({ stateDir: path.join(root, 'inline'), log, version: '1.18.33' });
    await shared.start();
    const idle = new Set<string>();
    shared.onEvent((event) => {
      if (event.kind === 'session' && event.event.type === 'status' && event.event.status === 'idle') idle.add(event.harnessSessionId);
    });
    const ids: string[] = [];
    for (let i = 0; i < AGENTS; i++) {
      const dir = await workspace(path.join(root, 'inline-ws'), `agent-${i}`, fakeUrl);
      const { harnessSessionId } = await shared.createSession({ directory: dir, title: `agent ${i}`, permission: [] });
      ids.push(harnessSessionId);
      await shared.prompt({ directory: dir, harnessSessionId }, { text: 'hello' });
    }
    await until(() => ids.every((id) => idle.has(id)), 'the inline agents to finish their turns', 120_000);
    await delay(2000);
    const inlineRss = (await treeRss(shared.health().pid as number)) ?? Number.NaN;
    await shared.stop();

    const binary = resolveOpencodeBinary();
    const children = await Promise.all(
      Array.from({ length: AGENTS }, async (_, i) => {
        const state = path.join(root, `dedicated-${i}`);
        const env: NodeJS.ProcessEnv = {
          PATH: process.env.PATH,
          HOME: path.join(state, 'home'),
          OPENCODE_SERVER_PASSWORD: 'bench',
          OPENCODE_DISABLE_MODELS_FETCH: '1',
          OPENCODE_DISABLE_AUTOUPDATE: '1',
        };
        for (const name of ['data', 'config', 'cache', 'state']) {
          env[`XDG_${name.toUpperCase()}_HOME`] = path.join(state, name);
          await mkdir(path.join(state, name), { recursive: true });
        }
        // The dedicated processes share the inline harness's pre-installed plugin packages, so none goes to the registry.
        await rm(path.join(state, 'config'), { recursive: true, force: true });
        await mkdir(path.join(state, 'config'), { recursive: true });
        await spawnCopy(path.join(root, 'inline', 'config', 'opencode'), path.join(state, 'config', 'opencode'));
        const port = 20_000 + Math.floor(Math.random() * 10_000);
        const child = spawn(binary, ['serve', '--port', String(port), '--hostname', '127.0.0.1'], { env, stdio: 'ignore' });
        return { child, base: `http://127.0.0.1:${port}`, dir: await workspace(path.join(root, 'dedicated-ws'), `agent-${i}`, fakeUrl) };
      }),
    );
    try {
      for (const { base } of children) {
        const deadline = Date.now() + 120_000;
        for (;;) {
          const healthy = await basicAuthFetch(base, 'bench', '/global/health').catch(() => undefined);
          if (healthy?.healthy) break;
          if (Date.now() > deadline) throw new Error('bench: a dedicated opencode did not start');
          await delay(200);
        }
      }
      for (const { base, dir } of children) {
        const query = `?directory=${encodeURIComponent(dir)}`;
        const created = await basicAuthFetch(base, 'bench', `/session${query}`, { title: 'dedicated' });
        await basicAuthFetch(base, 'bench', `/session/${created.id}/message${query}`, { parts: [{ type: 'text', text: 'hello' }] });
      }
      await delay(2000);
      let dedicatedRss = 0;
      for (const { child } of children) dedicatedRss += (await treeRss(child.pid as number)) ?? 0;
      return [
        { section: 'harness', figure: `RSS, ${AGENTS} agents on one inline harness`, value: inlineRss / MiB, unit: 'MiB' },
        {
          section: 'harness',
          figure: `RSS, ${AGENTS} dedicated opencode processes`,
          value: dedicatedRss / MiB,
          unit: 'MiB',
          ratio: dedicatedRss / inlineRss,
          ratioOf: '× the inline harness',
        },
      ];
    } finally {
      for (const { child } of children) child.kill('SIGKILL');
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function spawnCopy(from: string, to: string) {
  await new Promise<void>((resolve, reject) => {
    const cp = spawn('cp', ['-a', from, to], { stdio: 'ignore' });
    cp.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`cp exited ${code}`))));
  });
}

/** (b) and (c) through the real control plane: session start latency, and event → WebSocket latency under 100 streams. */
async function latency(server: BenchServer, fakeUrl: string, fake: Awaited<ReturnType<typeof startFakeProvider>>): Promise<Row[]> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'switchboard-bench-cp-'));
  const sql = await freshDatabase(server, 'bench_harness', 30);
  const config = loadConfig({
    SWITCHBOARD_DATA_DIR: dataDir,
    SWITCHBOARD_LOG_LEVEL: 'warn',
    SWITCHBOARD_GATEWAY_SESSION_RPM: '100000',
    SWITCHBOARD_ALLOWED_HOSTS: '127.0.0.1',
    SWITCHBOARD_WS_MESSAGES_PER_SECOND: '100000',
  });
  const app = await buildApp({ config, sql, logger: log });
  const admin = await bootstrapAdmin({ sql, audit: app.audit, email: config.adminEmail, dataDir });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const token = admin?.token as string;
  const post = (route: string, body: unknown) =>
    app
      .inject({
        method: 'POST',
        url: `/api/v1${route}`,
        headers: { authorization: `Bearer ${token}` },
        payload: body as Record<string, unknown>,
      })
      .then((r) => r.json());
  try {
    const provider = await post('/providers', { name: 'bench', kind: 'openai-compatible', baseUrl: `${fakeUrl}/v1`, apiKey: 'sk-bench' });
    await post('/models', {
      name: 'coder',
      providerId: provider.id,
      upstreamModel: 'coder',
      contextLimit: 100_000,
      outputLimit: 4096,
      prices: { input: 1, output: 1, cacheRead: 1, cacheWrite: 1 },
    });
    await app.startAgents(base);
    const rpc = await connectRpc(base, token);
    const received = new Map<string, number>();
    rpc.connection.onNotification('session/event', (note: { sessionId: string; seq: number; event: { type: string } }) => {
      rpc.events.push(note as never);
      if (note.event.type === 'text.delta' && !received.has(note.sessionId)) received.set(note.sessionId, performance.now());
    });

    fake.setDefault({ text: 'A short answer streamed in a few chunks.', chunks: 6 });
    const starts: number[] = [];
    const firstText: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      const session = await rpc.request('session/create', { title: `start ${i}` });
      starts.push(performance.now() - t0);
      await rpc.request('session/subscribe', { sessionId: session.id });
      const t1 = performance.now();
      await rpc.request('session/prompt', { sessionId: session.id, text: 'go' });
      while (!received.has(session.id)) await delay(2);
      firstText.push((received.get(session.id) as number) - t1);
      while (
        !rpc.events.some(
          (event) =>
            event.sessionId === session.id &&
            event.event.type === 'status' &&
            (event.event as { status: string }).status === 'idle' &&
            event.seq > 3,
        )
      )
        await delay(5);
    }

    // (c) The harness sees an event; how long until the client has it? 100 sessions stream at once.
    const seenByHarness = new Map<string, number>();
    const sessionOf = new Map<string, string>();
    app.harness?.onEvent((event) => {
      if (event.kind === 'session' && event.event.type === 'text.delta') {
        const sessionId = sessionOf.get(event.harnessSessionId);
        if (sessionId && !seenByHarness.has(sessionId)) seenByHarness.set(sessionId, performance.now());
      }
    });
    received.clear();
    fake.setDefault({ text: 'word '.repeat(100), chunks: 50, chunkDelayMs: 20 });
    const sessions: string[] = [];
    const published = new Map<string, number>();
    for (let i = 0; i < STREAMS; i++) {
      const session = await rpc.request('session/create', { title: `stream ${i}` });
      const [row] = await sql<{ harness_session_id: string }[]>`select harness_session_id from sessions where id = ${session.id}`;
      sessionOf.set(row?.harness_session_id as string, session.id);
      await rpc.request('session/subscribe', { sessionId: session.id });
      app.sessionEvents.subscribe(session.id, (event) => {
        if (event.event.type === 'text.delta' && !published.has(session.id)) published.set(session.id, performance.now());
      });
      sessions.push(session.id);
    }
    await Promise.all(sessions.map((sessionId) => rpc.request('session/prompt', { sessionId, text: 'stream' })));
    const deadline = Date.now() + 120_000;
    while (sessions.some((id) => !received.has(id)) && Date.now() < deadline) await delay(20);
    const added = sessions
      .filter((id) => received.has(id) && seenByHarness.has(id))
      .map((id) => (received.get(id) as number) - (seenByHarness.get(id) as number));
    const toStore = sessions
      .filter((id) => published.has(id) && seenByHarness.has(id))
      .map((id) => (published.get(id) as number) - (seenByHarness.get(id) as number));
    const toClient = sessions
      .filter((id) => published.has(id) && received.has(id))
      .map((id) => (received.get(id) as number) - (published.get(id) as number));
    await rpc.close();
    return [
      {
        section: 'harness',
        figure: 'session/create round trip (workspace + OpenCode session), p50',
        value: percentile(starts, 50),
        unit: 'ms',
      },
      {
        section: 'harness',
        figure: 'warm session: prompt → first streamed text at the client, p50',
        value: percentile(firstText, 50),
        unit: 'ms',
      },
      {
        section: 'harness',
        figure: `harness event → WebSocket client, ${STREAMS} sessions streaming, p50 (${added.length} samples)`,
        value: percentile(added, 50),
        unit: 'ms',
      },
      {
        section: 'harness',
        figure: `harness event → WebSocket client, ${STREAMS} sessions streaming, p99`,
        value: percentile(added, 99),
        unit: 'ms',
      },
      { section: 'harness', figure: '  of which harness event → stored in PostgreSQL, p50', value: percentile(toStore, 50), unit: 'ms' },
      { section: 'harness', figure: '  of which stored → WebSocket client, p50', value: percentile(toClient, 50), unit: 'ms' },
    ];
  } finally {
    await app.close();
    await sql.end();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export async function benchHarness(server: BenchServer): Promise<Row[]> {
  const fake = await startFakeProvider();
  try {
    fake.setDefault({ text: 'Hello from the bench.', chunks: 3 });
    const rows = await memory(fake.url);
    rows.push(...(await latency(server, fake.url, fake)));
    return rows;
  } finally {
    await fake.close();
  }
}
