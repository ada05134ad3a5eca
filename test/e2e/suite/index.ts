// The extension-host side of the real-editor tests: VS Code loads this file (compiled to
// test/e2e/.build/suite/index.js) as `extensionTestsPath` and awaits `run()`.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type MochaType from 'mocha';

// mocha's package entry is ESM; its CommonJS build loads under every VS Code's Node.
const Mocha: typeof MochaType = require('mocha/lib/mocha.cjs');

/** The line the test runners read: `E2E_SUMMARY {"passed":N,"failed":N,"pending":N}`. */
export const SUMMARY_PREFIX = 'E2E_SUMMARY ';

/** Reports every test through the console, which the workbench forwards to `codeAutomationLog`. */
class ConsoleReporter extends Mocha.reporters.Base {
  constructor(runner: MochaType.Runner, options?: MochaType.MochaOptions) {
    super(runner, options);
    let passed = 0;
    let failed = 0;
    let pending = 0;
    runner.on('pass', (test) => {
      passed += 1;
      console.log(`  ✓ ${test.fullTitle()} (${test.duration ?? 0} ms)`);
    });
    runner.on('pending', (test) => {
      pending += 1;
      console.log(`  - ${test.fullTitle()} (pending)`);
    });
    runner.on('fail', (test, error: Error) => {
      failed += 1;
      console.log(`  ✗ ${test.fullTitle()}\n${error.stack ?? error.message}`);
    });
    runner.once('end', () => console.log(`${SUMMARY_PREFIX}${JSON.stringify({ passed, failed, pending })}`));
  }
}

/**
 * Every `*.e2e.js` here, or only those named in `SWITCHBOARD_E2E_FILES` (comma-separated, without
 * `.e2e.ts`, e.g. `commands,session`): each vitest e2e test picks the files its setup serves.
 */
function selectFiles(): string[] {
  const available = readdirSync(__dirname)
    .filter((file) => file.endsWith('.e2e.js'))
    .sort();
  const wanted = (process.env.SWITCHBOARD_E2E_FILES ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (wanted.length === 0) {
    if (available.length === 0) throw new Error(`no *.e2e.js files in ${__dirname}`);
    return available;
  }
  const unknown = wanted.filter((name) => !available.includes(`${name}.e2e.js`));
  if (unknown.length > 0)
    throw new Error(`SWITCHBOARD_E2E_FILES names unknown suite files: ${unknown.join(', ')} (have ${available.join(', ')})`);
  return wanted.map((name) => `${name}.e2e.js`);
}

export async function run(): Promise<void> {
  // Stack traces then name the .ts sources (the bundles carry inline source maps).
  process.setSourceMapsEnabled(true);
  const mocha = new Mocha({
    ui: 'bdd',
    color: false,
    timeout: Number(process.env.SWITCHBOARD_E2E_TIMEOUT_MS ?? 60_000),
    reporter: ConsoleReporter,
  });
  if (process.env.SWITCHBOARD_E2E_GREP) mocha.grep(process.env.SWITCHBOARD_E2E_GREP);
  for (const file of selectFiles()) mocha.addFile(path.join(__dirname, file));
  await new Promise<void>((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} test(s) failed`)) : resolve()));
  });
}
