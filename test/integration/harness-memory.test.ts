import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createInlineHarness } from '../../control-plane/src/harness/inline-harness.js';
import { createLogger } from '../../control-plane/src/logger.js';
import { makeTempDir } from '../fixtures/temp.js';

describe('the shared harness keeps its memory bounded', () => {
  const stops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const stop of stops) await stop();
  });

  it('recycles an idle process on its own once its resident memory passes the limit, and does not loop when the limit is too low', async () => {
    const root = await makeTempDir('harness-memory');
    // An idle `opencode serve` holds ~300 MiB: a 64 MiB limit is passed at the first check.
    const harness = createInlineHarness({
      stateDir: path.join(root, 'state'),
      log: createLogger('silent'),
      version: '1.18.33',
      maxRssBytes: 64 * 1024 * 1024,
      memoryCheckMs: 250,
      minRecycleIntervalMs: 10 * 60_000,
    });
    stops.push(() => harness.stop());
    await harness.start();
    const first = harness.health().pid;
    expect(first).not.toBeNull();
    await expect.poll(() => harness.health().pid, { timeout: 60_000, interval: 250 }).not.toBe(first);
    await expect.poll(() => harness.health().state, { timeout: 30_000, interval: 250 }).toBe('running');
    const second = harness.health().pid;
    // The fresh process is over the limit too; it is left alone rather than recycled in a loop.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(harness.health().pid).toBe(second);
    expect(harness.health().state).toBe('running');
    expect(harness.health().rssBytes).toBeGreaterThan(64 * 1024 * 1024);
    // The recycled process answers: a new session can be created on it.
    const session = await harness.createSession({ directory: path.join(root, 'ws'), title: 'after recycle', permission: [] });
    expect(session.harnessSessionId).toMatch(/^ses/);
  }, 120_000);
});
