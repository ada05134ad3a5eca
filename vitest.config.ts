import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: { '@switchboard/protocol': fileURLToPath(new URL('./protocol/src/index.ts', import.meta.url)) },
  },
  test: {
    include: ['test/**/*.test.ts'],
    // The extension-host suite runs inside VS Code (test/e2e/editor.test.ts drives it), never in vitest.
    exclude: [...configDefaults.exclude, 'test/e2e/suite/**', 'test/e2e/.build/**'],
    globalSetup: ['test/fixtures/global-setup.ts', 'test/fixtures/e2e-global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    execArgv: ['--expose-gc'],
    reporters: ['default', './test/fixtures/summary-reporter.ts'],
  },
});
