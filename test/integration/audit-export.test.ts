import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../control-plane/src/audit/actions.js';
import { createTestApp, type TestApp } from '../fixtures/app.js';

const ROWS = 100_000;
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  const entries: AuditEntry[] = Array.from({ length: 1000 }, (_, i) => ({
    action: 'team.create',
    target: { type: 'team', id: `team-${i}` },
    payload: { name: `Team number ${i}`, note: 'x'.repeat(200) },
  }));
  for (let batch = 0; batch < ROWS / 1000; batch++) {
    await t.db.sql.begin((tx) => t.app.audit.recordMany(tx, { type: 'system' }, entries));
  }
  await t.app.listen({ host: '127.0.0.1', port: 0 });
}, 300_000);
afterAll(async () => t?.close());

describe('audit export', () => {
  it('streams 100k rows as JSON Lines with flat memory', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc, 'run with --expose-gc').toBeTypeOf('function');
    gc?.();
    const baseline = process.memoryUsage().heapUsed;
    let peak = baseline;
    // Live memory, not garbage: collect before each sample (needs --expose-gc, set in vitest.config.ts).
    const sampler = setInterval(() => {
      gc?.();
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }, 25);
    const { port } = t.app.server.address() as AddressInfo;
    const result = await new Promise<{ lines: number; bytes: number; chunks: number; chunked: boolean; last: string }>(
      (resolve, reject) => {
        const headers = { authorization: `Bearer ${t.adminToken}` };
        const req = request({ host: '127.0.0.1', port, path: '/api/v1/audit/export', headers }, (res) => {
          const seen = { lines: 0, bytes: 0, chunks: 0, chunked: res.headers['content-length'] === undefined, last: '' };
          let partial = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            seen.chunks += 1;
            seen.bytes += Buffer.byteLength(chunk);
            const parts = (partial + chunk).split('\n');
            partial = parts.pop() ?? '';
            seen.lines += parts.length;
            seen.last = parts.at(-1) ?? seen.last;
          });
          res.on('end', () => resolve(seen));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      },
    );
    clearInterval(sampler);
    expect(result.chunked).toBe(true);
    expect(result.chunks).toBeGreaterThan(10);
    // The bootstrap row, the 100k written here, and the row recording this export.
    expect(result.lines).toBe(ROWS + 2);
    expect(JSON.parse(result.last).action).toBe('audit.export');
    const growth = peak - baseline;
    console.info(`export: ${result.lines} lines, ${(result.bytes / 1e6).toFixed(1)} MB, heap growth ${(growth / 1e6).toFixed(1)} MB`);
    // Holding the export would need more than its own size; a cursor needs a few batches.
    expect(growth).toBeLessThan(result.bytes / 3);
  });

  it('holds no database connection while a client reads slowly: each batch is its own short query', async () => {
    const { port } = t.app.server.address() as AddressInfo;
    const paused = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/api/v1/audit/export', headers: { authorization: `Bearer ${t.adminToken}` } },
        (res) => {
          res.pause();
          resolve(res);
        },
      );
      req.on('error', reject);
      req.end();
    });
    // Let the server fill the socket and stop at back-pressure, with most of the 100k rows still unread.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const holding = await t.db.sql<{ state: string }[]>`
      select state from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid() and query ilike '%from audit_events%' and state <> 'idle'`;
    expect(holding).toEqual([]);
    paused.destroy();
  });
});
