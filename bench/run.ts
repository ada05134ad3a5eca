// npm run bench: every figure measured in this one run, printed side by side.
import { cpus } from 'node:os';
import { benchAudit } from './audit.js';
import { type BenchServer, openBenchServer, type Row } from './database.js';
import { benchGateway } from './gateway.js';
import { benchHarness } from './harness.js';

const sections: Record<string, (server: BenchServer) => Promise<Row[]>> = {
  audit: benchAudit,
  gateway: benchGateway,
  harness: benchHarness,
};
const only = process.argv.slice(2);

const server = await openBenchServer();
const rows: Row[] = [];
try {
  for (const [name, bench] of Object.entries(sections)) {
    if (only.length > 0 && !only.includes(name)) continue;
    process.stderr.write(`bench: ${name}…\n`);
    rows.push(...(await bench(server)));
  }
} finally {
  await server.stop();
}

const format = (value: number) => (value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2));
const table = rows.map((row) => [
  row.section,
  row.figure,
  `${format(row.value)} ${row.unit}`,
  row.ratio ? `${row.ratio.toFixed(2)} ${row.ratioOf}` : '',
]);
const header = ['section', 'figure', 'value', 'ratio'];
const widths = header.map((title, i) => Math.max(title.length, ...table.map((row) => row[i].length)));
const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
console.log(line(header));
console.log(line(widths.map((width) => '-'.repeat(width))));
for (const row of table) console.log(line(row));
console.log(`\nnode ${process.version}, ${cpus().length} cores, ${new Date().toISOString()}`);
