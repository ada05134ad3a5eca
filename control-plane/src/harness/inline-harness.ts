import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Logger } from '../logger.js';
import type { RunAs } from '../system-user.js';
import { resolveOpencodeBinary } from './binary.js';
import { subscribeEvents } from './event-stream.js';
import type { Harness, HarnessEvent, HarnessHealth } from './harness.js';
import { createOpencodeClient, type OpencodeClient } from './opencode-client.js';
import { adoptWorkspace, prepareHarnessDirs, reachableBinary, stopOrphanHarness } from './os-user.js';
import { prepareConfigDir } from './plugin-cache.js';
import { treeRss } from './process-memory.js';
import { createTranslator } from './translate.js';

export interface InlineHarnessOptions {
  /** Where the harness keeps OpenCode's own HOME and XDG directories (its SQLite database included). */
  stateDir: string;
  log: Logger;
  version: string;
  startTimeoutMs?: number;
  /** Recycle the process above this resident memory (whole process tree), when no turn runs or after the grace period. */
  maxRssBytes?: number;
  recycleGraceMs?: number;
  memoryCheckMs?: number;
  /** A fresh process may already sit above a low limit: never recycle for memory more often than this. */
  minRecycleIntervalMs?: number;
  /** The unprivileged user OpenCode (and every command it runs) runs as; undefined: the control plane's own user. */
  runAs?: RunAs | undefined;
}

const BACKOFF_MS = [500, 1000, 2000, 5000, 10_000, 30_000];
const STABLE_MS = 60_000;

/**
 * The inline harness: ONE supervised `opencode serve` for every session. Spawned on 127.0.0.1 with a
 * random port and password and its own HOME/XDG directories; restarted with backoff when it dies;
 * recycled when it grows past its memory limit, without losing sessions (OpenCode persists them).
 */
export function createInlineHarness(
  options: InlineHarnessOptions,
): Harness & { readonly client: OpencodeClient | null; recycle(reason: string): Promise<void> } {
  const { log } = options;
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const translator = createTranslator();
  const busy = new Set<string>();
  let child: ChildProcess | null = null;
  let client: OpencodeClient | null = null;
  let events: { stop(): Promise<void> } | null = null;
  let state: HarnessHealth['state'] = 'starting';
  let restarts = 0;
  let startedAt: Date | null = null;
  let lastError: string | null = null;
  let lastRss: number | null = null;
  let stopping = false;
  /** stop() was called: nothing will start again until start() is. */
  let halted = false;
  let restartTimer: NodeJS.Timeout | null = null;
  let memoryTimer: NodeJS.Timeout | null = null;
  let overLimitSince: number | null = null;
  let lastRecycleAt = 0;
  let warnedLowLimit = false;
  let ready: Promise<void> | null = null;

  const emit = (event: HarnessEvent) => emitter.emit('event', event);

  function dirs() {
    const base = path.resolve(options.stateDir);
    return {
      home: path.join(base, 'home'),
      data: path.join(base, 'data'),
      config: path.join(base, 'config'),
      cache: path.join(base, 'cache'),
      state: path.join(base, 'state'),
    };
  }

  async function spawnProcess(): Promise<void> {
    const d = dirs();
    await prepareHarnessDirs(d, options.runAs);
    await prepareConfigDir(path.join(d.config, 'opencode'), options.version, log);
    const pidFile = path.join(path.dirname(d.home), 'opencode.pid');
    await stopOrphanHarness(pidFile, d.home, log);
    const port = await freePort();
    const password = randomBytes(24).toString('base64url');
    const binary = await reachableBinary(resolveOpencodeBinary(), options.version, options.runAs);
    const proc = spawn(binary, ['serve', '--port', String(port), '--hostname', '127.0.0.1'], {
      ...(options.runAs ? { uid: options.runAs.uid, gid: options.runAs.gid } : {}),
      cwd: d.home,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        LANG: process.env.LANG ?? 'C.UTF-8',
        HOME: d.home,
        XDG_DATA_HOME: d.data,
        XDG_CONFIG_HOME: d.config,
        XDG_CACHE_HOME: d.cache,
        XDG_STATE_HOME: d.state,
        OPENCODE_SERVER_PASSWORD: password,
        OPENCODE_DISABLE_MODELS_FETCH: '1',
        OPENCODE_DISABLE_AUTOUPDATE: '1',
        OPENCODE_DISABLE_SHARE: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    // Not awaited: the exit listener below must be in place before anything else can run.
    if (proc.pid) void writeFile(pidFile, `${proc.pid}\n`, { mode: 0o600 }).catch(() => {});
    // If this process ends without stopping the harness (a crash, a test runner's exit), take it along.
    process.once('exit', killOnExit);
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    proc.once('exit', (code, signal) => onExit(proc, code, signal, output));

    const api = createOpencodeClient(`http://127.0.0.1:${port}`, password);
    const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
    while (!(await api.health())) {
      if (proc.exitCode !== null || proc.signalCode !== null)
        throw new Error(`opencode exited while starting: ${output.trim().slice(-1000)}`);
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(
          `opencode did not become healthy within ${(options.startTimeoutMs ?? 30_000) / 1000}s: ${output.trim().slice(-1000)}`,
        );
      }
      await delay(100);
    }
    client = api;
    events = subscribeEvents({
      url: `${api.baseUrl}/global/event`,
      authorization: api.authorization,
      onEvent: (raw) => {
        for (const event of translator.translate(raw)) {
          if (event.kind === 'session' && event.event.type === 'status') {
            if (event.event.status === 'busy' || event.event.status === 'retry') busy.add(event.harnessSessionId);
            else busy.delete(event.harnessSessionId);
          }
          emit(event);
        }
      },
      onError: (error) => log.debug({ err: error }, 'harness event stream interrupted; reconnecting'),
    });
    state = 'running';
    startedAt = new Date();
    log.info({ pid: proc.pid, port }, 'harness started');
    emit({ kind: 'lifecycle', state: 'started' });
  }

  function killOnExit() {
    child?.kill('SIGKILL');
  }

  function onExit(proc: ChildProcess, code: number | null, signal: NodeJS.Signals | null, output: string) {
    process.off('exit', killOnExit);
    if (proc !== child) return;
    child = null;
    client?.close().catch(() => {});
    client = null;
    void events?.stop();
    events = null;
    const interrupted = [...busy];
    busy.clear();
    for (const id of interrupted) translator.forget(id);
    const reason = signal ? `killed by ${signal}` : `exited with code ${code}`;
    emit({ kind: 'lifecycle', state: 'exited', reason });
    for (const harnessSessionId of interrupted) {
      emit({ kind: 'session', harnessSessionId, event: { type: 'status', status: 'idle', detail: 'interrupted' } });
    }
    if (stopping) return;
    lastError = `${reason}: ${output.trim().slice(-500)}`;
    log.error({ reason, interrupted: interrupted.length }, 'harness process died; restarting');
    scheduleRestart();
  }

  function scheduleRestart() {
    state = 'restarting';
    const stable = startedAt && Date.now() - startedAt.getTime() > STABLE_MS;
    if (stable) restarts = 0;
    const wait = BACKOFF_MS[Math.min(restarts, BACKOFF_MS.length - 1)] as number;
    restarts += 1;
    restartTimer = setTimeout(() => {
      restartTimer = null;
      ready = spawnProcess().catch((error: Error) => {
        lastError = error.message;
        log.error({ err: error }, 'harness failed to start; retrying');
        if (!stopping) scheduleRestart();
      });
    }, wait);
  }

  async function checkMemory() {
    // A process still starting is never recycled: it has not served anything yet.
    if (!child?.pid || !options.maxRssBytes || state !== 'running') return;
    lastRss = await treeRss(child.pid);
    if (lastRss === null || lastRss <= options.maxRssBytes) {
      overLimitSince = null;
      return;
    }
    overLimitSince ??= Date.now();
    if (Date.now() - lastRecycleAt < (options.minRecycleIntervalMs ?? 10 * 60_000)) {
      if (!warnedLowLimit) {
        warnedLowLimit = true;
        log.warn(
          { rssMiB: Math.round(lastRss / 1048576), limitMiB: Math.round(options.maxRssBytes / 1048576) },
          'the harness is above its memory limit right after a recycle; the limit may be below what OpenCode needs (raise SWITCHBOARD_HARNESS_MAX_RSS_MB)',
        );
      }
      return;
    }
    const graceOver = Date.now() - overLimitSince > (options.recycleGraceMs ?? 10 * 60_000);
    if (busy.size === 0 || graceOver) await harness.recycle(`resident memory ${Math.round(lastRss / 1048576)} MiB above the limit`);
  }

  async function stopProcess() {
    const proc = child;
    await events?.stop();
    events = null;
    if (!proc) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  const requireClient = (): OpencodeClient => {
    if (!client) throw new Error('The agent runtime is restarting. Try again in a few seconds.');
    return client;
  };

  const harness = {
    kind: 'inline' as const,
    get client() {
      return client;
    },
    /** Resolves when the first process is up; a first start that fails is retried with backoff, like a crash. */
    async start() {
      stopping = false;
      halted = false;
      state = 'starting';
      if (options.maxRssBytes && !memoryTimer) {
        memoryTimer = setInterval(
          () => void checkMemory().catch((error) => log.warn({ err: error }, 'memory check failed')),
          options.memoryCheckMs ?? 15_000,
        );
        memoryTimer.unref();
      }
      ready = spawnProcess();
      try {
        await ready;
      } catch (error) {
        lastError = (error as Error).message;
        if (!stopping) scheduleRestart();
        throw error;
      }
    },
    whenReady(timeoutMs: number): Promise<boolean> {
      if (state === 'running' && client) return Promise.resolve(true);
      if (halted || timeoutMs <= 0) return Promise.resolve(false);
      return new Promise((resolve) => {
        const done = (value: boolean) => {
          clearTimeout(timer);
          emitter.off('event', onEvent);
          emitter.off('stopped', onStopped);
          resolve(value);
        };
        const onEvent = (event: HarnessEvent) => {
          if (event.kind === 'lifecycle' && event.state === 'started') done(true);
        };
        const onStopped = () => done(false);
        const timer = setTimeout(() => done(false), timeoutMs);
        emitter.on('event', onEvent);
        emitter.on('stopped', onStopped);
      });
    },
    async stop() {
      stopping = true;
      halted = true;
      emitter.emit('stopped');
      if (restartTimer) clearTimeout(restartTimer);
      if (memoryTimer) clearInterval(memoryTimer);
      memoryTimer = null;
      await stopProcess();
      state = 'stopped';
    },
    async recycle(reason: string) {
      log.warn({ reason }, 'recycling the harness process');
      lastRecycleAt = Date.now();
      stopping = true;
      await stopProcess();
      stopping = false;
      restarts = 0;
      overLimitSince = null;
      state = 'restarting';
      ready = spawnProcess();
      await ready;
    },
    health(): HarnessHealth {
      return { state, pid: child?.pid ?? null, rssBytes: lastRss, restarts, startedAt: startedAt?.toISOString() ?? null, lastError };
    },
    createSession: (input) => requireClient().createSession(input),
    async prompt(target, input) {
      const body: Record<string, unknown> = { parts: [{ type: 'text', text: input.text }] };
      if (input.model) body.model = { providerID: input.model.providerId, modelID: input.model.modelId };
      if (input.agent) body.agent = input.agent;
      await requireClient().prompt(target, body);
      busy.add(target.harnessSessionId);
    },
    abort: (target) => requireClient().abort(target),
    replyPermission: (target, permissionId, reply) => requireClient().replyPermission(target.directory, permissionId, reply),
    replyQuestion: (target, questionId, answers) => requireClient().replyQuestion(target.directory, questionId, answers),
    rejectQuestion: (target, questionId) => requireClient().rejectQuestion(target.directory, questionId),
    adoptWorkspace: (input) => adoptWorkspace(input, options.runAs),
    dispose: (directory) => requireClient().dispose(directory),
    busySessions: async () => [...busy],
    onEvent(listener: (event: HarnessEvent) => void) {
      emitter.on('event', listener);
      return () => emitter.off('event', listener);
    },
  } satisfies Harness & { recycle(reason: string): Promise<void>; readonly client: OpencodeClient | null };
  return harness;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
