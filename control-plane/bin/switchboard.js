#!/usr/bin/env node
// The installed command. It exists before the first build, so npm can link it; the code is in dist/.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('switchboard is not built yet. Run "npm run build" (or "npm start") in the repository first.\n');
  process.exit(1);
}
await import(entry.href);
