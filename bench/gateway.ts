import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { startFakeProvider } from '../test/fixtures/fake-provider/index.js';
import type { BenchServer, Row } from './database.js';

const CLI = fileURLToPath(new URL('../../../control-plane/dist/cli.js', import.meta.url));
const RATES = [100, 250, 500];
const SECONDS = 5;

interface Sample {
  ttfb: number;
  total: number;
  ok: boolean;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

/** Starts the real control plane (its own embedded PostgreSQL) as a separate process, as users run it. */
async function startControlPlane() {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'switchboard-bench-cp-'));
  await chmod(dataDir, 0o755);
  const child = spawn(process.execPath, [CLI, 'start'], {
    env: {
      PATH: process.env.PATH,
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_PORT: '0',
      SWITCHBOARD_LOG_LEVEL: 'warn',
      SWITCHBOARD_GATEWAY_SESSION_RPM: '100000',
      SWITCHBOARD_ALLOWED_HOSTS: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`control plane exited (${code}): ${output}`)));
  });
  const token = (await readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim();
  return {
    url,
    token,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function api(base: string, token: string, route: string, body: unknown) {
  const response = await fetch(`${base}/api/v1${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${route}: ${response.status} ${await response.text()}`);
  return (await response.json()) as { id: string; token?: string };
}

/** Open-loop load: requests start on a fixed schedule whatever the answers do, so queueing shows up as latency. */
async function load(
  agent: Agent,
  url: string,
  headers: Record<string, string>,
  body: string,
  rate: number,
): Promise<{ samples: Sample[]; seconds: number }> {
  const count = rate * SECONDS;
  const samples: Sample[] = [];
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(
      (async () => {
        const begin = performance.now();
        let ttfb = 0;
        try {
          const response = await request(url, { method: 'POST', headers, body, dispatcher: agent });
          for await (const _chunk of response.body) if (!ttfb) ttfb = performance.now() - begin;
          samples.push({ ttfb, total: performance.now() - begin, ok: response.statusCode === 200 });
        } catch {
          samples.push({ ttfb: 0, total: performance.now() - begin, ok: false });
        }
      })(),
    );
  }
  await Promise.all(pending);
  return { samples, seconds: (performance.now() - started) / 1000 };
}

/** 200 concurrent streaming calls, half per format, against a budget that holds only some of them. */
async function race(cp: { url: string; token: string }, fakeUrl: string, agent: Agent): Promise<Row[]> {
  const anthropic = await api(cp.url, cp.token, '/providers', {
    name: 'bench-anthropic',
    kind: 'anthropic',
    baseUrl: fakeUrl,
    apiKey: 'sk-ant-bench',
    seedModels: false,
  });
  await api(cp.url, cp.token, '/models', {
    name: 'bench-claude',
    providerId: anthropic.id,
    upstreamModel: 'bench-claude',
    contextLimit: 100_000,
    outputLimit: 256,
    prices: { input: 3_000_000, output: 15_000_000, cacheRead: 300_000, cacheWrite: 3_750_000 },
  });
  const user = await api(cp.url, cp.token, '/users', { email: 'race@example.com', displayName: 'Race' });
  const created = await api(cp.url, cp.token, '/tokens', { name: 'race', userId: user.id });
  const limit = 150_000;
  await fetch(`${cp.url}/api/v1/users/${user.id}/budgets/month`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${cp.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ limitMicros: limit }),
  });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${created.token}` };
  const statuses = await Promise.all(
    Array.from({ length: 200 }, async (_, i) => {
      const openai = i % 2 === 0;
      const response = await request(`${cp.url}/gateway/v1/${openai ? 'chat/completions' : 'messages'}`, {
        method: 'POST',
        headers,
        dispatcher: agent,
        body: JSON.stringify({
          model: openai ? 'bench-model' : 'bench-claude',
          stream: true,
          max_tokens: 256,
          messages: [{ role: 'user', content: `q${i}` }],
        }),
      });
      await response.body.text();
      return response.statusCode;
    }),
  );
  const spend = (await (
    await fetch(`${cp.url}/api/v1/users/${user.id}/spend`, { headers: { authorization: `Bearer ${cp.token}` } })
  ).json()) as {
    totalMicros: number;
    budgets: { spentMicros: number; reservedMicros: number }[];
  };
  const budget = spend.budgets[0] ?? { spentMicros: Number.NaN, reservedMicros: Number.NaN };
  const settled = statuses.filter((status) => status === 200).length;
  return [
    {
      section: 'race',
      figure: `200 concurrent streams: settled (${statuses.filter((status) => status === 402).length} refused with 402)`,
      value: settled,
      unit: 'calls',
    },
    {
      section: 'race',
      figure: `budget spent of ${limit} limit (reserved left: ${budget.reservedMicros})`,
      value: budget.spentMicros,
      unit: 'µ$',
      ratio: budget.spentMicros / limit,
      ratioOf: 'of limit',
    },
    { section: 'race', figure: 'spent minus sum of settled calls (must be 0)', value: budget.spentMicros - spend.totalMicros, unit: 'µ$' },
  ];
}

/** Gateway overhead: the same streamed completion called directly and through the gateway, side by side. */
export async function benchGateway(_server: BenchServer): Promise<Row[]> {
  const fake = await startFakeProvider();
  fake.setDefault({
    text: 'A streamed answer of a few dozen tokens, sent in ten chunks to the client.',
    chunks: 10,
    usage: { input: 200, output: 20 },
  });
  const cp = await startControlPlane();
  const agent = new Agent({ connections: 1024, keepAliveTimeout: 30_000 });
  const rows: Row[] = [];
  try {
    const provider = await api(cp.url, cp.token, '/providers', {
      name: 'bench',
      kind: 'openai-compatible',
      baseUrl: `${fake.url}/v1`,
      apiKey: 'sk-bench-provider-key',
    });
    await api(cp.url, cp.token, '/models', {
      name: 'bench-model',
      providerId: provider.id,
      upstreamModel: 'bench-model',
      contextLimit: 100_000,
      outputLimit: 256,
      prices: { input: 3_000_000, output: 15_000_000, cacheRead: 300_000, cacheWrite: 3_750_000 },
    });
    const user = await api(cp.url, cp.token, '/users', { email: 'bench@example.com', displayName: 'Bench' });
    const created = await api(cp.url, cp.token, '/tokens', { name: 'bench', userId: user.id });
    // A budget far above what the run spends, so every call takes the reserve-and-settle path.
    await fetch(`${cp.url}/api/v1/users/${user.id}/budgets/month`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${cp.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ limitMicros: 1_000_000_000_000 }),
    });
    const body = JSON.stringify({
      model: 'bench-model',
      stream: true,
      max_tokens: 256,
      messages: [{ role: 'user', content: 'Say something.' }],
    });
    const direct = {
      url: `${fake.url}/v1/chat/completions`,
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench-provider-key' },
    };
    const viaGateway = {
      url: `${cp.url}/gateway/v1/chat/completions`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${created.token}` },
    };

    await load(agent, viaGateway.url, viaGateway.headers, body, 50);
    await load(agent, direct.url, direct.headers, body, 50);
    for (const rate of RATES) {
      const base = await load(agent, direct.url, direct.headers, body, rate);
      const gw = await load(agent, viaGateway.url, viaGateway.headers, body, rate);
      const failed = gw.samples.filter((sample) => !sample.ok).length + base.samples.filter((sample) => !sample.ok).length;
      for (const [name, pick] of [
        ['first byte', (sample: Sample) => sample.ttfb],
        ['whole stream', (sample: Sample) => sample.total],
      ] as const) {
        for (const p of [50, 99]) {
          const d = percentile(base.samples.map(pick), p);
          const g = percentile(gw.samples.map(pick), p);
          rows.push({ section: 'gateway', figure: `${rate} req/s streaming, ${name} p${p}: direct`, value: d, unit: 'ms' });
          rows.push({
            section: 'gateway',
            figure: `${rate} req/s streaming, ${name} p${p}: via gateway`,
            value: g,
            unit: 'ms',
            ratio: g - d,
            ratioOf: 'ms added',
          });
        }
      }
      rows.push({
        section: 'gateway',
        figure: `${rate} req/s: achieved rate via gateway (${failed} failed)`,
        value: gw.samples.length / gw.seconds,
        unit: 'req/s',
      });
    }
    rows.push(...(await race(cp, fake.url, agent)));
  } finally {
    await agent.close();
    await cp.stop();
    await fake.close();
  }
  return rows;
}
