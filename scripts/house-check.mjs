#!/usr/bin/env node
// The house rules a reader relies on, checked on every CI run (docs/ARCHITECTURE.md, "The house"):
//   1. SQL lives in repositories: a query (a tagged SQL template, `unsafe`, `listen`, `notify`) in
//      control-plane/src outside a `*-repository.ts` file (or db/, which owns connections and
//      migrations) fails.
//   2. No dependency cycles: neither between folders of a package's src nor between files.
//   3. No source file over 300 lines. (Functions over 80 lines: biome's noExcessiveLinesPerFunction.)
// `--counts` prints the figures without failing, for the before/after table in a note.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = ['control-plane/src', 'extension/src', 'protocol/src'];
const MAX_FILE_LINES = 300;
const countsOnly = process.argv.includes('--counts');

function sourceFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (/\.(ts|tsx|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** Blanks out comments so that prose about SQL or imports is not read as code. */
function withoutComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`\\])\/\/[^\n]*/g, '$1');
}

const SQL_TEMPLATE = /[A-Za-z_$>)\]]\s*`\s*(select|insert|update|delete|with|lock|create|alter|drop|truncate|notify|listen)\b/gi;
const SQL_CALL = /\b(sql|tx|db|trx)\s*\.\s*(unsafe|listen|notify)\s*\(/g;

function sqlOutsideRepositories() {
  const found = [];
  const src = path.join(root, 'control-plane/src');
  for (const file of sourceFiles(src)) {
    const rel = path.relative(src, file);
    if (rel.endsWith('-repository.ts') || rel.startsWith(`db${path.sep}`)) continue;
    const text = withoutComments(readFileSync(file, 'utf8'));
    for (const pattern of [SQL_TEMPLATE, SQL_CALL]) {
      for (const m of text.matchAll(pattern)) {
        const line = text.slice(0, m.index).split('\n').length;
        found.push(`control-plane/src/${rel}:${line}: ${text.split('\n')[line - 1].trim().slice(0, 100)}`);
      }
    }
  }
  return found;
}

const IMPORT =
  /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'"`;]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function resolveImport(from, spec) {
  const base = path.resolve(path.dirname(from), spec);
  const candidates = [base.replace(/\.js$/, '.ts'), base.replace(/\.js$/, '.tsx'), `${base}.ts`, path.join(base, 'index.ts')];
  return candidates.find((c) => {
    try {
      return statSync(c).isFile();
    } catch {
      return false;
    }
  });
}

/** Strongly connected components with more than one member (Tarjan), i.e. the cycles. */
function cycles(graph) {
  let index = 0;
  const stack = [];
  const meta = new Map();
  const out = [];
  const visit = (v) => {
    meta.set(v, { index, low: index, on: true });
    index++;
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!meta.has(w)) {
        visit(w);
        meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).low);
      } else if (meta.get(w).on) meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).index);
    }
    if (meta.get(v).low === meta.get(v).index) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        meta.get(w).on = false;
        component.push(w);
      } while (w !== v);
      if (component.length > 1) out.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!meta.has(v)) visit(v);
  return out;
}

function dependencyCycles() {
  const found = [];
  for (const pkg of PACKAGES) {
    const src = path.join(root, pkg);
    const files = new Map();
    const folders = new Map();
    const folderOf = (file) => {
      const rel = path.relative(src, file);
      return rel.includes(path.sep) ? rel.split(path.sep)[0] : '(root)';
    };
    for (const file of sourceFiles(src)) {
      const text = withoutComments(readFileSync(file, 'utf8'));
      const targets = new Set();
      for (const m of text.matchAll(IMPORT)) {
        const target = resolveImport(file, m[1] ?? m[2]);
        if (target?.startsWith(src)) targets.add(target);
      }
      files.set(file, targets);
      const from = folderOf(file);
      if (!folders.has(from)) folders.set(from, new Set());
      for (const target of targets) {
        const to = folderOf(target);
        // Root files (app, config, errors …) sit above the folders; a folder may use them.
        if (to !== from && from !== '(root)') folders.get(from).add(to);
      }
    }
    for (const c of cycles(folders)) found.push(`${pkg}: folders ${c.join(' ⇄ ')}`);
    for (const c of cycles(files)) found.push(`${pkg}: files ${c.map((f) => path.relative(src, f)).join(' ⇄ ')}`);
  }
  return found;
}

function longFiles() {
  const found = [];
  for (const pkg of PACKAGES) {
    for (const file of sourceFiles(path.join(root, pkg))) {
      const lines = readFileSync(file, 'utf8').split('\n').length - 1;
      if (lines > MAX_FILE_LINES) found.push(`${path.relative(root, file)}: ${lines} lines (at most ${MAX_FILE_LINES})`);
    }
  }
  return found;
}

const checks = [
  ['SQL outside a repository', sqlOutsideRepositories(), 'move the query into the owning *-repository.ts'],
  ['dependency cycles', dependencyCycles(), 'turn one import around (a callback, a type in the lower folder) or merge the pair'],
  ['files over 300 lines', longFiles(), 'split the file by concept'],
];
let failed = false;
for (const [name, found, fix] of checks) {
  console.log(`${name}: ${found.length}`);
  for (const line of found) console.log(`  ${line}`);
  if (found.length > 0 && !countsOnly) {
    failed = true;
    console.log(`  → ${fix}`);
  }
}
if (failed) {
  console.error('house-check failed: see docs/ARCHITECTURE.md, "The house".');
  process.exit(1);
}
