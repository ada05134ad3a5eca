import type { AuditEntry } from '@switchboard/control-plane/audit/actions.js';
import { createAuditService } from '@switchboard/control-plane/audit/audit-service.js';
import { type BenchServer, freshDatabase, log, type Row } from './database.js';

const WRITERS = 20;
const PER_WRITER = 150;
const BATCH = 500;
const BATCHES = 40;

const entry = (i: number): AuditEntry => ({
  action: 'team.create',
  target: { type: 'team', id: `t${i}` },
  payload: { name: `Team ${i}`, size: i % 17 },
});

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

/** Audit ingest (single-row and batched, chained vs an unchained table), verify and export. */
export async function benchAudit(server: BenchServer): Promise<Row[]> {
  const sql = await freshDatabase(server, 'bench_audit', WRITERS + 5);
  const audit = createAuditService({ sql, log, prompts: 'full' });
  await sql`create table plain_events (id bigserial primary key, at timestamptz not null default now(), action text, payload jsonb)`;
  const rows: Row[] = [];

  const concurrent = (work: (i: number) => Promise<unknown>) =>
    Promise.all(
      Array.from({ length: WRITERS }, (_, w) =>
        (async () => {
          for (let i = 0; i < PER_WRITER; i++) await work(w * PER_WRITER + i);
        })(),
      ),
    );
  const total = WRITERS * PER_WRITER;

  const plain = await timed(() =>
    concurrent((i) =>
      sql.begin((tx) => tx`insert into plain_events (action, payload) values ('team.create', ${tx.json(entry(i).payload as never)})`),
    ),
  );
  const chained = await timed(() => concurrent((i) => sql.begin((tx) => audit.record(tx, { type: 'system' }, entry(i)))));
  rows.push({ section: 'audit', figure: `ingest, ${WRITERS} writers, 1 row/tx, unchained table`, value: total / plain, unit: 'rows/s' });
  rows.push({
    section: 'audit',
    figure: `ingest, ${WRITERS} writers, 1 row/tx, hash chain`,
    value: total / chained,
    unit: 'rows/s',
    ratio: chained / plain,
    ratioOf: '× the time of unchained',
  });

  const batched = await timed(async () => {
    for (let b = 0; b < BATCHES; b++) {
      const entries = Array.from({ length: BATCH }, (_, i) => entry(b * BATCH + i));
      await sql.begin((tx) => audit.recordMany(tx, { type: 'system' }, entries));
    }
  });
  rows.push({
    section: 'audit',
    figure: `ingest, batched ${BATCH} rows/tx, hash chain`,
    value: (BATCH * BATCHES) / batched,
    unit: 'rows/s',
    ratio: (BATCH * BATCHES) / batched / (total / chained),
    ratioOf: '× the rate of 1 row/tx',
  });

  let checked = 0;
  const verify = await timed(async () => {
    const result = await audit.verify();
    if (!result.ok) throw new Error(`chain did not verify: ${JSON.stringify(result)}`);
    checked = result.checked;
  });
  rows.push({ section: 'audit', figure: `verify ${checked} rows`, value: checked / verify, unit: 'rows/s' });

  (globalThis as { gc?: () => void }).gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  let lines = 0;
  const exportTime = await timed(async () => {
    for await (const chunk of audit.exportLines({})) {
      lines += chunk.toString().split('\n').length - 1;
      peak = Math.max(peak, process.memoryUsage().rss);
    }
  });
  rows.push({ section: 'audit', figure: `export ${lines} rows as JSON Lines`, value: lines / exportTime, unit: 'rows/s' });
  rows.push({ section: 'audit', figure: 'export RSS growth', value: (peak - before) / 1024 / 1024, unit: 'MiB' });
  await sql.end();
  return rows;
}
